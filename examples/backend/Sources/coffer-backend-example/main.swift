import Foundation
import BackendExample
import CofferConfiguration
import Configuration
import Hummingbird

// The project is the working directory's (or COFFER_PROJECT's), the environment COFFER_ENV's; the port HTTP_PORT.
let coffer = try CofferProvider(
  options: .init(projectDirectory: ProcessInfo.processInfo.environment["COFFER_PROJECT"]))
let config = ConfigReader(providers: [EnvironmentVariablesProvider(), coffer])
try await BackendService.makeApplication(config: config, services: [coffer]).runService()
