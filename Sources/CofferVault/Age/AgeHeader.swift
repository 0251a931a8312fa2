/// One recipient stanza of an age header: `-> type arg…` followed by a base64 body.
///
/// Recipients produce stanzas from a file key (``AgeRecipient/wrap(_:)``) and identities consume them
/// (``AgeIdentity/unwrap(_:)``). The type and arguments are non-empty strings of printable ASCII without spaces
/// (0x21…0x7E); the body is any bytes.
public struct AgeStanza: Sendable, Equatable {
  /// The stanza type, the first argument after `->` (`X25519`, `scrypt`, …).
  public var type: String
  /// The remaining arguments.
  public var arguments: [String]
  /// The decoded body.
  public var body: [UInt8]

  /// Creates a stanza.
  /// - Parameters:
  ///   - type: the stanza type.
  ///   - arguments: the arguments after the type.
  ///   - body: the body bytes.
  public init(type: String, arguments: [String], body: [UInt8]) {
    self.type = type
    self.arguments = arguments
    self.body = body
  }

  /// Whether the type and every argument are non-empty printable ASCII without spaces, as the spec requires.
  public var isWellFormed: Bool {
    ([type] + arguments).allSatisfy { AgeHeader.isValidArgument(Array($0.utf8)) }
  }
}

/// The header of an age file: its recipient stanzas and the header MAC.
///
/// ``parse(_:)`` accepts exactly the canonical encoding the spec defines and ``encoded()`` produces it, so parsing
/// and re-encoding any accepted header gives back the same bytes.
public struct AgeHeader: Sendable, Equatable {
  /// The version line, without its newline.
  public static let versionLine = "age-encryption.org/v1"
  /// Body lines hold this many base64 columns; a shorter line ends the body.
  public static let columnsPerLine = 64

  /// The stanzas, in file order.
  public var stanzas: [AgeStanza]
  /// The 32-byte HMAC-SHA256 over the header up to and including `---`.
  public var mac: [UInt8]

  /// Creates a header.
  /// - Parameters:
  ///   - stanzas: the recipient stanzas.
  ///   - mac: the header MAC (32 bytes); compute it with the file key over ``encodedWithoutMAC()``.
  public init(stanzas: [AgeStanza], mac: [UInt8]) {
    self.stanzas = stanzas
    self.mac = mac
  }

  static func isValidArgument(_ bytes: [UInt8]) -> Bool {
    !bytes.isEmpty && bytes.allSatisfy { (0x21...0x7E).contains($0) }
  }

  /// The header bytes the MAC covers: everything up to and including the `---` of the final line.
  public func encodedWithoutMAC() -> [UInt8] {
    var out = Array(Self.versionLine.utf8)
    out.append(0x0A)
    for stanza in stanzas {
      out += Array("->".utf8)
      for argument in [stanza.type] + stanza.arguments {
        out.append(0x20)
        out += Array(argument.utf8)
      }
      out.append(0x0A)
      let body = AgeBase64.encode(stanza.body)
      var start = 0
      while start + Self.columnsPerLine <= body.count {
        out += body[start..<(start + Self.columnsPerLine)]
        out.append(0x0A)
        start += Self.columnsPerLine
      }
      // The final body line is always shorter than a full line, possibly empty.
      out += body[start...]
      out.append(0x0A)
    }
    out += Array("---".utf8)
    return out
  }

  /// The complete header: ``encodedWithoutMAC()``, a space, the base64 MAC and a newline.
  public func encoded() -> [UInt8] {
    var out = encodedWithoutMAC()
    out.append(0x20)
    out += AgeBase64.encode(mac)
    out.append(0x0A)
    return out
  }

  /// Parses the header at the start of a binary age file.
  /// - Parameter file: the binary (not armored) age file, or at least its header.
  /// - Returns: the header, the length of the prefix the MAC covers (through `---`), and the offset where the
  ///   payload (its nonce) starts.
  /// - Throws: ``AgeError/Code/headerFailure`` for an unsupported version, a malformed stanza or body line,
  ///   non-canonical base64, a malformed MAC line, no stanzas, or a header without its end.
  public static func parse(_ file: [UInt8]) throws(AgeError) -> (header: AgeHeader, macInputLength: Int, payloadOffset: Int) {
    var position = 0

    func nextLine() throws(AgeError) -> ArraySlice<UInt8> {
      guard position < file.count, let newline = file[position...].firstIndex(of: 0x0A) else {
        throw AgeError.header("the header ends before its final line")
      }
      let line = file[position..<newline]
      position = newline + 1
      return line
    }

    let version = try nextLine()
    guard version.elementsEqual(versionLine.utf8) else {
      if version.starts(with: "age-encryption.org/".utf8) {
        throw AgeError.header("unsupported age format version")
      }
      throw AgeError.header("not an age file (the first line is not the version line)")
    }

    var stanzas: [AgeStanza] = []
    while true {
      let lineStart = position
      let line = try nextLine()
      if line.starts(with: "---".utf8) {
        let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].elementsEqual("---".utf8) else {
          throw AgeError.header("malformed final header line")
        }
        guard let mac = AgeBase64.decode(parts[1]), mac.count == 32 else {
          throw AgeError.header("malformed header MAC (not 32 bytes of canonical unpadded base64)")
        }
        guard !stanzas.isEmpty else { throw AgeError.header("the header has no recipient stanzas") }
        return (AgeHeader(stanzas: stanzas, mac: mac), lineStart + 3, position)
      }
      guard line.starts(with: "->".utf8) else {
        throw AgeError.header("unexpected header line (expected a stanza or the final line)")
      }
      let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
      guard parts[0].elementsEqual("->".utf8), parts.count >= 2 else {
        throw AgeError.header("malformed stanza line")
      }
      let arguments = parts.dropFirst().map { Array($0) }
      guard arguments.allSatisfy(isValidArgument) else {
        throw AgeError.header("malformed stanza argument (empty or not printable ASCII)")
      }
      var body: [UInt8] = []
      while true {
        let bodyLine = try nextLine()
        guard bodyLine.count <= columnsPerLine else {
          throw AgeError.header("stanza body line longer than \(columnsPerLine) columns")
        }
        guard let decoded = AgeBase64.decode(bodyLine) else {
          throw AgeError.header("stanza body line is not canonical unpadded base64 (a stanza must end with a short line)")
        }
        body += decoded
        if bodyLine.count < columnsPerLine { break }
      }
      let strings = arguments.map { String(decoding: $0, as: UTF8.self) }
      stanzas.append(AgeStanza(type: strings[0], arguments: Array(strings.dropFirst()), body: body))
    }
  }
}
