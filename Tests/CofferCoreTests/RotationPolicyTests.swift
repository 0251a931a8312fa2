import CofferCore
import Testing

func at(_ text: String) -> Timestamp {
  guard let t = Timestamp(rfc3339: text) else { fatalError("bad test time \(text)") }
  return t
}

/// Rotation status math with a fixed clock: every boundary is an exact second.
@Suite struct RotationPolicyTests {
  let manifest: Manifest

  init() throws {
    manifest = try decode(
      withHeader(
        """
        groups:
          api-keys: { rotation: 90d }
          database-credentials: { rotation: 180d }
          security-tokens: { rotation: 1y }
        secrets:
          OPENAI_API_KEY: { group: api-keys }
          DATABASE_URL: { group: database-credentials, rotation: 30d }
          JWT_SECRET: { group: security-tokens }
          LOG_LEVEL: { secret: false }

        """))
  }

  func status(
    _ name: String, group: String = "api-keys", rotated: String, now: String, window: Int = 14,
    revoked: RevocationMark? = nil
  ) -> RotationStatus {
    RotationPolicy(manifest: manifest, dueSoonDays: window).status(
      of: RotationFacts(name: name, group: group, lastRotated: at(rotated), revoked: revoked), at: at(now))
  }

  @Test func ninetyDaysAcrossTheDueDate() {
    // 2026-01-01 + 90 days = 2026-04-01 (31 + 28 + 31 = 90).
    let ok = status("OPENAI_API_KEY", rotated: "2026-01-01T00:00:00Z", now: "2026-03-17T00:00:00Z")
    #expect(ok.state == .ok)
    #expect(ok.ageDays == 75)
    #expect(ok.daysLeft == 15)
    #expect(ok.period?.days == 90)
    #expect(ok.due == at("2026-04-01T00:00:00Z"))
    let windowOpens = status("OPENAI_API_KEY", rotated: "2026-01-01T00:00:00Z", now: "2026-03-18T00:00:00Z")
    #expect(windowOpens.state == .dueSoon)
    #expect(windowOpens.daysLeft == 14)
    let lastSecondBefore = status("OPENAI_API_KEY", rotated: "2026-01-01T00:00:00Z", now: "2026-03-31T23:59:59Z")
    #expect(lastSecondBefore.state == .dueSoon)
    #expect(lastSecondBefore.ageDays == 89)
    #expect(lastSecondBefore.daysLeft == 1)
    let dueDay = status("OPENAI_API_KEY", rotated: "2026-01-01T00:00:00Z", now: "2026-04-01T00:00:00Z")
    #expect(dueDay.state == .overdue)
    #expect(dueDay.ageDays == 90)
    #expect(dueDay.daysLeft == 0)
    let later = status("OPENAI_API_KEY", rotated: "2026-01-01T00:00:00Z", now: "2026-05-01T12:00:00Z")
    #expect(later.state == .overdue)
    #expect(later.ageDays == 120)
    #expect(later.daysLeft == -30)
  }

  @Test func dueTimesKeepTheTimeOfDay() {
    let s = status("OPENAI_API_KEY", rotated: "2026-01-01T15:30:00Z", now: "2026-04-01T15:29:59Z")
    #expect(s.due == at("2026-04-01T15:30:00Z"))
    #expect(s.state == .dueSoon)
    #expect(status("OPENAI_API_KEY", rotated: "2026-01-01T15:30:00Z", now: "2026-04-01T15:30:00Z").state == .overdue)
  }

  @Test func leapYears() {
    // 365 days from 2027-03-01 lands on 2028-02-29: 2028 is a leap year.
    let leap = status("JWT_SECRET", group: "security-tokens", rotated: "2027-03-01T12:00:00Z", now: "2028-02-29T11:59:59Z")
    #expect(leap.due == at("2028-02-29T12:00:00Z"))
    #expect(leap.state == .dueSoon)
    #expect(leap.ageDays == 364)
    #expect(status("JWT_SECRET", group: "security-tokens", rotated: "2027-03-01T12:00:00Z", now: "2028-02-29T12:00:00Z").state == .overdue)
    // From 2026-03-01 the same 365 days end on 2027-03-01 (no February 29 in between).
    #expect(status("JWT_SECRET", group: "security-tokens", rotated: "2026-03-01T00:00:00Z", now: "2026-03-01T00:00:00Z").due == at("2027-03-01T00:00:00Z"))
    // A year from a February 29 is February 28 of the next year.
    #expect(status("JWT_SECRET", group: "security-tokens", rotated: "2024-02-29T00:00:00Z", now: "2024-03-01T00:00:00Z").due == at("2025-02-28T00:00:00Z"))
    // Ages count the leap day: 2028-02-28 to 2028-03-01 is 2 days.
    #expect(status("JWT_SECRET", group: "security-tokens", rotated: "2028-02-28T00:00:00Z", now: "2028-03-01T00:00:00Z").ageDays == 2)
    #expect(status("JWT_SECRET", group: "security-tokens", rotated: "2027-02-28T00:00:00Z", now: "2027-03-01T00:00:00Z").ageDays == 1)
  }

  @Test func periodsComeFromTheSecretThenItsGroup() {
    #expect(status("DATABASE_URL", group: "database-credentials", rotated: "2026-01-01T00:00:00Z", now: "2026-01-31T00:00:00Z").state == .overdue)
    #expect(status("DATABASE_URL", group: "database-credentials", rotated: "2026-01-01T00:00:00Z", now: "2026-01-31T00:00:00Z").period?.days == 30)
    // An undeclared secret takes the period of the group it is stored under.
    #expect(status("UNDECLARED", group: "database-credentials", rotated: "2026-01-01T00:00:00Z", now: "2026-01-02T00:00:00Z").period?.days == 180)
    let none = status("LOG_LEVEL", group: "default", rotated: "2020-01-01T00:00:00Z", now: "2026-01-01T00:00:00Z")
    #expect(none.state == .ok)
    #expect(none.period == nil)
    #expect(none.due == nil)
    #expect(none.daysLeft == nil)
    #expect(none.ageDays == 2192)
  }

  @Test func aRevokedReaderMeansNeedsRotationWhateverTheDates() {
    let mark = RevocationMark(recipient: "dave", time: at("2026-01-05T00:00:00Z"))
    let s = status("OPENAI_API_KEY", rotated: "2026-01-01T00:00:00Z", now: "2026-01-06T00:00:00Z", revoked: mark)
    #expect(s.state == .needsRotation)
    #expect(s.revoked == mark)
    #expect(s.daysLeft == 85)
    // An undeclared name is treated as a secret; a plain setting (`secret: false`) never needs rotation (issue 17).
    #expect(status("UNDECLARED", group: "default", rotated: "2026-01-01T00:00:00Z", now: "2026-01-02T00:00:00Z", revoked: mark).state == .needsRotation)
    let setting = status("LOG_LEVEL", group: "default", rotated: "2026-01-01T00:00:00Z", now: "2026-01-02T00:00:00Z", revoked: mark)
    #expect(setting.state == .ok)
    #expect(setting.revoked == nil)
  }

  @Test func theWindowIsConfigurableAndAFutureDateIsAgeZero() {
    #expect(status("OPENAI_API_KEY", rotated: "2026-01-01T00:00:00Z", now: "2026-03-31T00:00:00Z", window: 0).state == .ok)
    #expect(status("OPENAI_API_KEY", rotated: "2026-01-01T00:00:00Z", now: "2026-01-02T00:00:00Z", window: 89).state == .dueSoon)
    #expect(status("OPENAI_API_KEY", rotated: "2026-01-01T00:00:00Z", now: "2026-01-02T00:00:00Z", window: 88).state == .ok)
    #expect(RotationPolicy(manifest: manifest, dueSoonDays: -5).dueSoonDays == 0)
    let skewed = status("OPENAI_API_KEY", rotated: "2026-02-01T00:00:00Z", now: "2026-01-01T00:00:00Z")
    #expect(skewed.ageDays == 0)
    #expect(skewed.state == .ok)
  }

  @Test func manyStatusesAreSortedAndGateCI() {
    let policy = RotationPolicy(manifest: manifest)
    let now = at("2026-04-15T00:00:00Z")
    let statuses = policy.statuses(
      of: [
        RotationFacts(name: "OPENAI_API_KEY", group: "api-keys", lastRotated: at("2026-04-01T00:00:00Z")),
        RotationFacts(name: "JWT_SECRET", group: "security-tokens", lastRotated: at("2026-01-01T00:00:00Z")),
        RotationFacts(name: "DATABASE_URL", group: "database-credentials", lastRotated: at("2026-03-20T00:00:00Z")),
      ], at: now)
    #expect(statuses.map(\.name) == ["DATABASE_URL", "JWT_SECRET", "OPENAI_API_KEY"])
    #expect(statuses.map(\.state) == [.dueSoon, .ok, .ok])
    #expect(!RotationPolicy.needsAction(statuses))
    #expect(RotationPolicy.needsAction(statuses + [status("X", rotated: "2025-01-01T00:00:00Z", now: "2026-01-01T00:00:00Z")]))
    #expect(RotationState.allCases.map(\.rawValue) == ["ok", "due-soon", "overdue", "needs-rotation"])
  }
}
