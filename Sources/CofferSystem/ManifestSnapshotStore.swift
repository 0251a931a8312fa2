import CofferCore
import CofferVault

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where a project's manifest snapshot (``ManifestSnapshot``) is kept: one file per project in the state directory,
/// `$XDG_STATE_HOME/coffer/manifest/<first 16 hex digits of SHA-256(coffer.yaml's resolved path)>.snapshot`.
///
/// A snapshot is used only for the exact bytes it was made from, by the exact executable that made it: its key is
/// the SHA-256 of coffer.yaml and the executable's device, inode, size and modification time, so a changed
/// manifest or an upgraded Coffer decodes the YAML again. Only a manifest that decoded without error and has no
/// imports is kept (an import can change without coffer.yaml changing). Reading and writing are best effort and
/// never an error: a snapshot that is missing, stale, garbled or unreadable only costs the decode.
///
/// Like `run`'s manifest cache, the snapshot is not authenticated: someone who can write your state directory can
/// change what the next command believes coffer.yaml declares (docs/access.md, the state-directory row), but never
/// the approved access policy, which is read and verified from `.coffer/policy` on every command.
package struct ManifestSnapshotStore {
  let path: String
  let key: [UInt8]

  /// The store for one manifest's bytes, or nil where the executable cannot be identified (then nothing is kept).
  /// - Parameters:
  ///   - manifestPath: the project's `coffer.yaml`.
  ///   - manifest: its bytes, as read now.
  package init?(manifestPath: String, manifest: [UInt8]) {
    guard let executable = Self.executableIdentity else { return nil }
    let id = String(ContentHash.sha256Hex(Array(Paths.resolved(manifestPath).utf8)).prefix(16))
    path = Paths.join(ProcessEnvironment.stateHome(), "coffer/manifest/\(id).snapshot")
    key = Array((ContentHash.sha256Hex(manifest) + " " + executable).utf8)
  }

  /// The snapshot's manifest, or nil when there is none for these bytes and this executable.
  /// - Parameters:
  ///   - file: the display name of coffer.yaml, for the provenance.
  ///   - provenance: whether to read the provenance.
  package func read(file: String, provenance: Bool) -> MergedManifest? {
    guard let bytes = try? Files.read(path) else { return nil }
    return ManifestSnapshot.read(bytes, key: key, file: file, provenance: provenance)
  }

  /// Keeps a snapshot of `merged` (decoded from the bytes this store was made with), replacing the project's last
  /// one; does nothing for a manifest with imports.
  /// - Parameters:
  ///   - merged: the decoded, merged manifest.
  ///   - file: the display name its provenance uses.
  package func write(_ merged: MergedManifest, file: String) {
    guard let bytes = ManifestSnapshot.write(merged, file: file, key: key) else { return }
    try? Files.makeDirectory(Paths.parent(path))
    try? Files.writeAtomically(path, bytes)
  }

  /// `dev:inode:size:mtime` of the running executable (`/proc/self/exe`), or nil where there is no such file.
  static let executableIdentity: String? = {
    var st = stat()
    guard stat("/proc/self/exe", &st) == 0 else { return nil }
    #if canImport(Glibc)
      let modified = "\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
    #else
      let modified = "\(st.st_mtimespec.tv_sec).\(st.st_mtimespec.tv_nsec)"
    #endif
    return "\(st.st_dev):\(st.st_ino):\(st.st_size):\(modified)"
  }()
}
