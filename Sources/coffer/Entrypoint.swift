import CofferCLI

@main
enum Entrypoint {
  static func main() { CofferCommand.runMain() }
}
