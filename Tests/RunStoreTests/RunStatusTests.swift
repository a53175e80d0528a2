import Testing
@testable import RunStore

@Test func runStatusRawValuesAreStable() {
    // These strings are stored in the database: renaming a case would orphan old rows.
    #expect(RunStatus.allCases.map(\.rawValue) == ["running", "finished", "failed", "interrupted"])
}
