import Testing
@Test func placeholderVault() { #expect(Bool(true)) }
