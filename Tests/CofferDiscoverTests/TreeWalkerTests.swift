import CofferSystem
import Foundation
import Testing

/// The walker's safety rules: symbolic links are never followed (so nothing outside the tree is listed or read),
/// binary and oversized files are skipped when read, `.git/` is never entered.
@Suite struct TreeWalkerTests {
  @Test func symbolicLinksOutOfTheTreeAreNeverFollowed() throws {
    let outside = try TempDir()
    try outside.write("secret.py", "os.getenv('OUTSIDE')\n")
    try outside.write("dir/inner.py", "os.getenv('OUTSIDE_DIR')\n")
    let tree = try TempDir()
    try tree.write("a.py", "x\n")
    try tree.symlink("file-link.py", to: outside.path + "/secret.py")
    try tree.symlink("dir-link", to: outside.path + "/dir")
    try tree.symlink("up", to: "..")
    try tree.symlink("loop", to: "loop")
    try tree.symlink("inside-link.py", to: tree.path + "/a.py")

    let listing = try TreeWalker().list([tree.path])
    #expect(listing.files.map(\.relativePath) == ["a.py"])
    let skipped = listing.skipped.map { "\($0.path.dropFirst(tree.path.count + 1))" }.sorted()
    #expect(skipped == ["dir-link", "file-link.py", "inside-link.py", "loop", "up"])
    #expect(listing.skipped.allSatisfy { $0.reason == .symlink })

    // A file replaced by a symbolic link after listing is not read through it either (O_NOFOLLOW).
    try tree.write("b.py", "os.getenv('INSIDE')\n")
    let file = try TreeWalker().list([tree.path]).files.first { $0.relativePath == "b.py" }!
    try FileManager.default.removeItem(atPath: file.path)
    try tree.symlink("b.py", to: outside.path + "/secret.py")
    guard case .skipped(.symlink) = TreeWalker.read(file, maxSize: 1 << 20) else {
      Issue.record("a swapped-in symbolic link was read")
      return
    }
  }

  @Test func binaryAndOversizedFilesAreSkippedWhenRead() throws {
    let tree = try TempDir()
    try tree.write("text.py", "hello\n")
    try tree.write("nul-late.py", Data(repeating: 0x61, count: 9000) + Data([0]))  // NUL after the first 8 KiB
    try tree.write("nul-early.py", Data("ab".utf8) + Data([0]) + Data("cd".utf8))
    try tree.write("big.py", Data(repeating: 0x61, count: 2001))
    try tree.write("edge.py", Data(repeating: 0x61, count: 2000))
    let files = try TreeWalker().list([tree.path]).files
    let results = TreeWalker.readAll(files, maxSize: 2000) { _, bytes in bytes.count }
    var outcome: [String: String] = [:]
    for (file, result) in zip(files, results) {
      switch result {
      case .success(let count): outcome[file.relativePath] = "text \(count)"
      case .failure(let error): outcome[file.relativePath] = "\(error.skip.reason)"
      }
    }
    #expect(
      outcome == [
        "big.py": "tooLarge(2001)", "edge.py": "text 2000", "nul-early.py": "binary", "nul-late.py": "tooLarge(9001)",
        "text.py": "text 6",
      ])
    #expect(TreeWalker.readAll(files, maxSize: 1 << 20) { _, _ in 0 }.filter { (try? $0.get()) == nil }.count == 1)
  }

  @Test func readAllKeepsOrderAcrossThreads() throws {
    let tree = try TempDir()
    for i in 0..<500 { try tree.write("d\(i % 7)/f\(i).txt", "\(i)") }
    let files = try TreeWalker().list([tree.path]).files
    #expect(files.count == 500)
    let values = TreeWalker.readAll(files, maxSize: 100) { _, bytes in Int(String(decoding: bytes, as: UTF8.self))! }
    #expect(values.map { try! $0.get() } == files.map { Int($0.relativePath.split(separator: "f").last!.dropLast(4))! })
  }

  @Test func gitDirectoryIsNeverEnteredAndRootsKeepTheirSpelling() throws {
    let tree = try TempDir()
    try tree.write(".git/HEAD", "ref\n")
    try tree.write("sub/.git", "gitdir: elsewhere\n")
    try tree.write("sub/x.sh", "echo\n")
    let listing = try TreeWalker().list([tree.path + "/", tree.path + "/sub/x.sh"])
    #expect(listing.files.map(\.path) == [tree.path + "/sub/x.sh", tree.path + "/sub/x.sh"])
    #expect(listing.files.map(\.relativePath) == ["sub/x.sh", "x.sh"])
    #expect(throws: SystemError.self) { try TreeWalker().list([tree.path + "/missing"]) }
  }
}
