import Testing

@testable import Agents

@Test func linearScheduleHitsEndpointsAndMidpoint() {
    let s = Schedule.linear(start: 1, end: 0.1, steps: 100)
    #expect(s.value(at: 0) == 1)
    #expect(abs(s.value(at: 50) - 0.55) < 1e-12)
    #expect(s.value(at: 100) == 0.1)
    #expect(s.value(at: 10_000) == 0.1)
}

@Test func exponentialScheduleDecaysToFloor() {
    let s = Schedule.exponential(start: 1, end: 0.2, decay: 0.5)
    #expect(s.value(at: 1) == 0.5)
    #expect(s.value(at: 2) == 0.25)
    #expect(s.value(at: 3) == 0.2)
}
