import CofferCore

#if canImport(Glibc)
  import Glibc
#endif

extension Files {
  /// Adds the execute bits wherever the read bits are set (as `chmod +x` does under a 022 umask).
  /// - Parameter path: the file.
  /// - Throws: ``SystemError`` when its mode cannot be read or changed.
  package static func makeExecutable(_ path: String) throws(SystemError) {
    guard let mode = mode(of: path) else { throw SystemError.errno("cannot chmod", path: path) }
    let executable = mode | ((mode & 0o444) >> 2)
    guard chmod(path, mode_t(executable)) == 0 else { throw SystemError.errno("cannot chmod", path: path) }
  }
}

extension ProcessEnvironment {
  /// The absolute path of the running executable (`/proc/self/exe`), or nil when it cannot be read.
  package static func executablePath() -> String? {
    var buffer = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard n > 0 else { return nil }
    return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
  }
}
