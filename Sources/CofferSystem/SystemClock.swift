import CofferCore

#if canImport(Glibc)
  import Glibc
#endif

/// The wall clock; replaceable in tests through `COFFER_NOW` (RFC 3339), read only here.
package enum SystemClock {
  /// The current time, or `COFFER_NOW` when it is set to a valid RFC 3339 UTC time.
  package static func now() -> Timestamp {
    if let fixed = ProcessEnvironment.get("COFFER_NOW"), let t = Timestamp(rfc3339: fixed) { return t }
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Timestamp(secondsSinceEpoch: Int64(ts.tv_sec))
  }
}
