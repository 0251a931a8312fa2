// The exec floor: what any Swift `coffer run` must pay at least. Reads argv, execve's argv[1...] with the inherited
// environment; no Foundation, no ArgumentParser, no vault.
#if canImport(Glibc)
  import Glibc
#endif

let args = CommandLine.arguments.dropFirst()
guard let program = args.first else { exit(2) }
var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
cArgs.append(nil)
execv(program, cArgs)
exit(127)
