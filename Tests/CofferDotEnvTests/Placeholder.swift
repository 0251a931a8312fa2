import Testing
@Test func placeholderDotEnv() { #expect(Bool(true)) }
