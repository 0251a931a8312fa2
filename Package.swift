// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
  name: "Coffer",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "coffer", targets: ["coffer"]),
    .library(name: "CofferCore", targets: ["CofferCore"]),
    .library(name: "CofferDotEnv", targets: ["CofferDotEnv"]),
    .library(name: "CofferVault", targets: ["CofferVault"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
  ],
  targets: [
    // Pure core: secret values, manifest model and decoding, checks. No I/O.
    .target(
      name: "CofferCore",
      dependencies: [.product(name: "Yams", package: "Yams")],
      swiftSettings: strict),
    // Lossless .env parser and serializer. No I/O.
    .target(name: "CofferDotEnv", dependencies: ["CofferCore"], swiftSettings: strict),
    // age (age-encryption.org/v1) layer and the vault file format. No I/O.
    .target(
      name: "CofferVault",
      dependencies: [
        "CofferCore",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "CryptoExtras", package: "swift-crypto"),
      ],
      swiftSettings: strict),
    // Audit events: hash-chained JSON lines and their verification. No I/O.
    .target(
      name: "CofferAudit",
      dependencies: ["CofferCore", .product(name: "Crypto", package: "swift-crypto")],
      swiftSettings: strict),
    // Leak scanning and redaction: multi-pattern matching over bytes. No I/O.
    .target(name: "CofferScan", dependencies: ["CofferCore"], swiftSettings: strict),
    // The only module that touches the world: files, locks, identity lookup, execve, clock.
    .target(
      name: "CofferSystem",
      dependencies: ["CofferCore", "CofferVault", "CofferDotEnv", "CofferAudit", "CofferScan"],
      swiftSettings: strict),
    // Thin commands, one error renderer, exit codes.
    .target(
      name: "CofferCLI",
      dependencies: [
        "CofferCore", "CofferDotEnv", "CofferVault", "CofferSystem", "CofferAudit", "CofferScan",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: strict),
    .executableTarget(name: "coffer", dependencies: ["CofferCLI"], swiftSettings: strict),

    .testTarget(name: "CofferCoreTests", dependencies: ["CofferCore"], swiftSettings: strict),
    .testTarget(name: "CofferDotEnvTests", dependencies: ["CofferDotEnv", "CofferCore"], swiftSettings: strict),
    .testTarget(
      name: "CofferVaultTests",
      dependencies: ["CofferVault", "CofferCore", .product(name: "Crypto", package: "swift-crypto")],
      resources: [.copy("Vectors")],
      swiftSettings: strict),
    .testTarget(name: "CofferScanTests", dependencies: ["CofferScan", "CofferCore"], swiftSettings: strict),
    .testTarget(name: "CofferAuditTests", dependencies: ["CofferAudit", "CofferCore"], swiftSettings: strict),
    .testTarget(
      name: "CofferCLITests",
      dependencies: ["CofferCore", "CofferDotEnv", "CofferVault"],
      swiftSettings: strict),
  ]
)
