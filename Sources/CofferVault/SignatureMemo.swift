import CofferCore
import Crypto
import Synchronization

/// The signatures this user has already verified, so that every `run` does not verify the same policy records, key
/// blocks and group seals again (docs/vault-format.md, "Verified-signature memo").
///
/// An Ed25519 signature's validity is a pure function of (public key, signature, message), so remembering that a
/// triple verified can never make an invalid one pass. What the memo must prevent is a forged entry: each entry is a
/// tag, `HMAC-SHA256(k, "coffer signature memo v1" 0x00 || public key || signature || message)` truncated to 16
/// bytes (RFC 2104), with `k = HKDF-SHA256(ikm: the age identity's X25519 secret, salt: empty, info: "coffer
/// identity/v2 signature memo", 32 bytes)` (RFC 5869). Writing an entry that passes therefore needs the identity;
/// an entry from another identity, a garbled file or a deleted one only means the signature is verified again.
/// A second kind of entry (``vaultTag(project:environment:policyRecord:mac:)``) vouches that every group seal of
/// one vault file verified under one policy record.
///
/// Stored form (``serialized``): the line `coffer-signature-memo v1`, then the tags, 16 raw bytes each, newest last,
/// at most ``limit``. The bytes are pure input and output here; where they live is the caller's (CofferSystem).
///
/// Safe to use from several threads: the tags, and ``active``, are behind locks (a library process may verify from
/// any thread).
public final class SignatureMemo: Sendable {
  /// The first line of the stored form.
  public static let header = Array("coffer-signature-memo v1\n".utf8)
  /// How many tags are kept (the oldest are dropped): a project's policy records plus a few keys and seals per
  /// environment, for every project this user works on.
  public static let limit = 1024

  /// The memo `SigningPublicKey.verify` consults; set once an identity is loaded. `nil`: verify every time.
  public static var active: SignatureMemo? {
    get { activeMemo.withLock { $0 } }
    set { activeMemo.withLock { $0 = newValue } }
  }
  private static let activeMemo = Mutex<SignatureMemo?>(nil)

  /// Makes `memo()` the active memo unless one is already active, in one step (two threads activating at once
  /// agree on one memo).
  /// - Parameter memo: makes the memo; called only when none is active.
  public static func activateIfNone(_ memo: () -> SignatureMemo) {
    activeMemo.withLock { active in
      if active == nil { active = memo() }
    }
  }

  private let key: SymmetricKey
  private struct State {
    var tags: [UInt8]
    var changed = false
  }
  private let state: Mutex<State>

  /// Whether a tag was added since the memo was read.
  public var changed: Bool { state.withLock { $0.changed } }

  /// Reads a stored memo for an identity.
  /// - Parameters:
  ///   - identity: the age identity whose secret keys the tags.
  ///   - stored: the stored form, or empty; anything that is not the stored form is ignored (an empty memo).
  public init(identity: AgeX25519Identity, stored: [UInt8]) {
    key = AgeCrypto.hkdf(identity.secretBytes, salt: [], info: "coffer identity/v2 signature memo")
    let body = stored.dropFirst(Self.header.count)
    if stored.starts(with: Self.header), body.count % 16 == 0 {
      state = Mutex(State(tags: Array(body.suffix(Self.limit * 16))))
    } else {
      state = Mutex(State(tags: []))
    }
  }

  /// How many tags the memo holds.
  public var count: Int { state.withLock { $0.tags.count / 16 } }

  /// The stored form, newest tags last, at most ``limit`` of them.
  public var serialized: [UInt8] { state.withLock { Self.header + $0.tags.suffix(Self.limit * 16) } }

  func tag(_ publicKey: [UInt8], _ signature: [UInt8], _ message: [UInt8]) -> [UInt8] {
    var input = Array("coffer signature memo v1".utf8)
    input.append(0)
    input += publicKey
    input += signature
    input += message
    return Array(AgeCrypto.hmac(input[...], key: key).prefix(16))
  }

  /// The tag that says this identity verified every group seal of a format-2 vault file whose MAC is `mac`, under
  /// the policy record whose hash is `policyRecord`: `HMAC-SHA256(k, "coffer vault memo v1" 0x00 || project 0x00 ||
  /// environment 0x00 || policy record hash 0x00 || mac)` truncated to 16 bytes (docs/vault-format.md).
  /// - Parameters:
  ///   - project: the vault's project id.
  ///   - environment: the vault's environment.
  ///   - policyRecord: the hash of the policy chain's head record (hex), whose members' keys the seals verified under.
  ///   - mac: the file's MAC (32 bytes), already checked against the file's bytes.
  func vaultTag(project: String, environment: String, policyRecord: String, mac: [UInt8]) -> [UInt8] {
    var input = Array("coffer vault memo v1".utf8)
    input.append(0)
    input += project.utf8
    input.append(0)
    input += environment.utf8
    input.append(0)
    input += policyRecord.utf8
    input.append(0)
    input += mac
    return Array(AgeCrypto.hmac(input[...], key: key).prefix(16))
  }

  func contains(_ tag: [UInt8]) -> Bool {
    guard tag.count == 16 else { return false }
    return state.withLock { state in
      state.tags.withUnsafeBufferPointer { all in
        var i = 0
        while i + 16 <= all.count {
          if all[i..<(i + 16)].elementsEqual(tag) { return true }
          i += 16
        }
        return false
      }
    }
  }

  func insert(_ tag: [UInt8]) {
    state.withLock { state in
      state.tags += tag
      state.changed = true
    }
  }
}
