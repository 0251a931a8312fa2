// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("MemberImportVisibility"),
]

/// How `coffer` is linked, for start-up time (docs/performance.md, "Start-up"):
/// - always `--no-export-dynamic`: export no symbols, so the dynamic symbol table stays small and the Swift
///   runtime's start-up `dladdr` does not walk 36,000 of them;
/// - with `COFFER_STATIC_LINK=1`, for release builds (`make release` and the benchmarks set it): a fully static
///   executable (`-static-executable`), as Go links age and sops. No dynamic loader runs: no library search, no
///   symbol or relative relocations, no `libc.so`/`libm.so`/`libz.so` mapped, and the executable is
///   position-dependent (stack, heap and mmap areas stay randomised). Measured against the previous link (static
///   Swift runtime and libstdc++, dynamic glibc, `-no-pie`): `coffer --version` 1.79 → 1.40 ms. glibc's name service
///   (`getpwuid`, for the audit log's actor) loads a `libnss_*` module at run time for any source but `files`, so
///   the binary wants the glibc it was built with (docs/architecture.md, "Building for release"). No DWARF in the executable (`--strip-debug`;
///   symbols stay for backtraces). The functions the common commands execute are laid out first and together
///   (`--section-ordering-file`, BuildSupport/coffer.order, written by scripts/hot-order.sh), which needs every
///   function in its own section: `make release` compiles with `-function-sections` (Swift) and
///   `-ffunction-sections` (C). `run` at 1,000 secrets touched about 90 fewer pages of the executable.
///   Against the shared Swift runtime (debug builds) this would be wrong, so it is not the default.
let staticLink = Context.environment["COFFER_STATIC_LINK"] == "1"
let executableLinkFlags: [String] =
  ["-Xlinker", "--no-export-dynamic"]
  + (staticLink
    ? ["-static-executable", "-Xlinker", "--strip-debug",
       "-Xlinker", "--section-ordering-file=\(Context.packageDirectory)/BuildSupport/coffer.order"]
    : [])

let package = Package(
  name: "Coffer",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "coffer", targets: ["coffer"]),
    .library(name: "CofferCore", targets: ["CofferCore"]),
    .library(name: "CofferDotEnv", targets: ["CofferDotEnv"]),
    .library(name: "CofferVault", targets: ["CofferVault"]),
    .library(name: "CofferDiscover", targets: ["CofferDiscover"]),
    // The runtime API for backends: `CofferSecrets.load` (docs/library.md).
    .library(name: "CofferRuntime", targets: ["CofferRuntime"]),
    // A swift-configuration provider over a Coffer environment, reloaded when the vault changes.
    .library(name: "CofferConfiguration", targets: ["CofferConfiguration"]),
    // examples/backend: a Hummingbird service configured through CofferConfiguration.
    .executable(name: "coffer-backend-example", targets: ["coffer-backend-example"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    // Sync: HTTP types for the transport seam, AsyncHTTPClient for the real transport.
    .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    // Test-only: the in-process fake GitHub and Pulumi ESC servers (CofferTesting).
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
    // CofferConfiguration: the provider protocol, its compatibility test, and the reloading service. No traits: the
    // provider needs none of swift-configuration's file formats. The CLI does not link either.
    .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: []),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
  ],
  targets: [
    // Pure core: secret values, manifest model and decoding, checks. No I/O.
    .target(
      name: "CofferCore",
      dependencies: ["CGlibc", .product(name: "Yams", package: "Yams")],
      swiftSettings: strict),
    // Lossless .env parser and serializer. No I/O.
    .target(name: "CofferDotEnv", dependencies: ["CofferCore"], swiftSettings: strict),
    // age (age-encryption.org/v1) layer and the vault file format. No I/O.
    .target(
      name: "CofferVault",
      dependencies: [
        "CofferCore", "CSodium",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "CryptoExtras", package: "swift-crypto"),
      ],
      swiftSettings: strict),
    // Audit events: hash-chained JSON lines and their verification. No I/O.
    .target(
      name: "CofferAudit",
      dependencies: ["CofferCore", .product(name: "Crypto", package: "swift-crypto")],
      swiftSettings: strict),
    // libsodium (Debian's libsodium-dev): ChaCha20-Poly1305 for vault values and age, GitHub's sealed boxes.
    // No pkgConfig: its `-L/usr/lib/x86_64-linux-gnu` would come first on the link line and defeat the static link
    // above; the headers and library are on the default paths where Debian's package installs them.
    .systemLibrary(name: "CSodium", providers: [.apt(["libsodium-dev"])]),
    // glibc declarations the Glibc module leaves out: <malloc.h>'s mallopt (CofferSystem's Heap), memmem
    // (CofferCore's ByteSearch) and the processor-affinity calls (CofferCore's ParallelParts). Part of the C library.
    .systemLibrary(name: "CGlibc"),
    // Sync to destinations (GitHub Actions, Pulumi ESC, OpenBao, AWS Secrets Manager, .env): plans, name rules, retry
    // policy, destinations.
    // Talks HTTP only through the `HTTPTransport` protocol; no sockets, files or clocks of its own.
    .target(
      name: "CofferSync",
      dependencies: [
        "CofferCore", "CofferDotEnv", "CSodium",
        .product(name: "HTTPTypes", package: "swift-http-types"),
        .product(name: "Yams", package: "Yams"),
        // AWS SigV4: HMAC-SHA256 and SHA-256.
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      swiftSettings: strict),
    // Variables a project uses: references in source code, declarations in existing templates. No I/O.
    .target(
      name: "CofferDiscover",
      dependencies: ["CofferCore", "CofferDotEnv", .product(name: "Yams", package: "Yams")],
      swiftSettings: strict),
    // Leak scanning and redaction: multi-pattern matching over bytes. No I/O.
    .target(name: "CofferScan", dependencies: ["CofferCore"], swiftSettings: strict),
    // The only module that touches the world: files, locks, identity lookup, execve, clock, HTTP.
    .target(
      name: "CofferSystem",
      dependencies: [
        "CofferCore", "CofferVault", "CofferDotEnv", "CofferAudit", "CofferSync", "CofferScan", "CGlibc",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ],
      swiftSettings: strict),
    // The application layer: the operations a command or a backend calls (open a project and its vault under the
    // lock, read an environment, write, access, audit). Does I/O only through CofferSystem; never prints.
    .target(
      name: "CofferOperations",
      dependencies: [
        "CofferCore", "CofferDotEnv", "CofferVault", "CofferSystem", "CofferAudit", "CofferScan",
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: strict),
    // The runtime API for backends: one entry point that loads an environment's secrets for a process.
    .target(
      name: "CofferRuntime",
      dependencies: [
        "CofferCore", "CofferVault", "CofferSystem", "CofferOperations",
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: strict),
    // A swift-configuration provider over CofferRuntime, reloaded by a swift-service-lifecycle service.
    .target(
      name: "CofferConfiguration",
      dependencies: [
        "CofferRuntime",
        .product(name: "Configuration", package: "swift-configuration"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: strict),
    // examples/backend: a small Hummingbird 2 service configured through ConfigReader (docs/library.md).
    .target(
      name: "BackendExample",
      dependencies: [
        .product(name: "Configuration", package: "swift-configuration"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      path: "examples/backend/Sources/BackendExample",
      swiftSettings: strict),
    .executableTarget(
      name: "coffer-backend-example",
      dependencies: [
        "BackendExample", "CofferConfiguration", .product(name: "Configuration", package: "swift-configuration"),
        .product(name: "Hummingbird", package: "hummingbird"),
      ],
      path: "examples/backend/Sources/coffer-backend-example",
      swiftSettings: strict),
    // Thin commands, one error renderer, exit codes.
    .target(
      name: "CofferCLI",
      dependencies: [
        "CofferCore", "CofferDotEnv", "CofferVault", "CofferSystem", "CofferAudit", "CofferSync", "CofferDiscover",
        "CofferScan", "CofferOperations",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: strict),
    .executableTarget(
      name: "coffer", dependencies: ["CofferCLI"], swiftSettings: strict,
      linkerSettings: [.unsafeFlags(executableLinkFlags)]),
    // Test support (not a product): in-process fake GitHub and Pulumi ESC servers on 127.0.0.1, and the helpers several
    // test targets share (child processes, a seeded generator, marked-up fixture text).
    .target(
      name: "CofferTesting",
      dependencies: [
        "CSodium",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Yams", package: "Yams"),
      ],
      swiftSettings: strict),

    .testTarget(name: "CofferCoreTests", dependencies: ["CofferCore", "CofferTesting"], swiftSettings: strict),
    .testTarget(name: "CofferDotEnvTests", dependencies: ["CofferDotEnv", "CofferCore"], swiftSettings: strict),
    .testTarget(
      name: "CofferVaultTests",
      dependencies: ["CofferVault", "CofferCore", "CofferTesting", .product(name: "Crypto", package: "swift-crypto")],
      resources: [.copy("Vectors")],
      swiftSettings: strict),
    .testTarget(name: "CofferScanTests", dependencies: ["CofferScan", "CofferCore"], swiftSettings: strict),
    .testTarget(
      name: "CofferAuditTests",
      // Crypto: the head MAC's key is checked against swift-crypto's HKDF.
      dependencies: ["CofferAudit", "CofferCore", "CofferTesting", .product(name: "Crypto", package: "swift-crypto")],
      swiftSettings: strict),
    .testTarget(
      name: "CofferDiscoverTests",
      dependencies: ["CofferDiscover", "CofferCore", "CofferSystem", "CofferTesting"],
      swiftSettings: strict),
    .testTarget(
      name: "CofferCLITests",
      // Crypto: to check, from outside, that a revoked data key no longer opens new ciphertexts.
      dependencies: [
        "CofferCore", "CofferDotEnv", "CofferVault", "CofferTesting", .product(name: "Crypto", package: "swift-crypto"),
        "CofferSystem",  // WatchSourceTests: run --watch's file watching, without a process
      ],
      swiftSettings: strict),
    // The operations, the runtime API, the swift-configuration provider and the example backend, called in-process
    // (a project is set up with the built `coffer`).
    .testTarget(
      name: "CofferOperationsTests",
      dependencies: [
        "CofferOperations", "CofferRuntime", "CofferConfiguration", "CofferCore", "CofferSystem", "CofferVault",
        "CofferTesting", "BackendExample",
        .product(name: "Configuration", package: "swift-configuration"),
        .product(name: "ConfigurationTesting", package: "swift-configuration"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      swiftSettings: strict),
    .testTarget(
      name: "CofferSyncTests",
      dependencies: [
        "CofferSync", "CofferCore", "CofferDotEnv", "CofferSystem", "CofferTesting", "CSodium",
        .product(name: "HTTPTypes", package: "swift-http-types"),
        // Signing the JWTs the OpenBao login tests present.
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      swiftSettings: strict),
  ]
)
