import ArgumentParser
import CofferCore

public struct CofferCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(commandName: "coffer", abstract: "Secrets, declared, encrypted and delivered.")
  public init() {}
  public static func runMain() { main() }
}
