import Testing
@testable import Gateway

/// The retry budget on a clock the test moves: retries are a share of first attempts over a
/// sliding window, with a floor.
@Suite struct RetryBudgetTests {
    let t0 = ContinuousClock.now

    func at(_ milliseconds: Int) -> ContinuousClock.Instant { t0 + .milliseconds(milliseconds) }

    /// `#expect` cannot call a mutating method on its argument.
    func allow(_ budget: inout RetryBudget, _ now: ContinuousClock.Instant) -> Bool { budget.allowRetry(now: now) }

    @Test func theMinimumIsAllowedWithoutFirstAttempts() {
        var budget = RetryBudget(RetryBudgetSettings(percent: 20, minimumPerWindow: 3, window: .seconds(10)), origin: t0)
        #expect((0..<5).map { _ in budget.allowRetry(now: at(100)) } == [true, true, true, false, false])
    }

    @Test func retriesAreAShareOfFirstAttempts() {
        var budget = RetryBudget(RetryBudgetSettings(percent: 20, minimumPerWindow: 3, window: .seconds(10)), origin: t0)
        for _ in 0..<50 { budget.recordFirstAttempt(now: at(0)) }
        // 20 % of 50 is 10.
        let allowed = (0..<20).filter { _ in budget.allowRetry(now: at(500)) }.count
        #expect(allowed == 10)
    }

    @Test func theWindowSlides() {
        var budget = RetryBudget(RetryBudgetSettings(percent: 20, minimumPerWindow: 2, window: .seconds(10)), origin: t0)
        #expect(allow(&budget, at(0)))
        #expect(allow(&budget, at(3000)))
        #expect(!allow(&budget, at(9999)))
        // The first retry's bucket (0–1 s) leaves the window at 10 s; the deferral says so.
        #expect(budget.deferral(now: at(9999)) == .milliseconds(10))
        #expect(budget.deferral(now: at(9000)) == .seconds(1))
        #expect(allow(&budget, at(10_000)))
        #expect(!allow(&budget, at(10_500)))
    }

    @Test func firstAttemptsOutsideTheWindowStopCounting() {
        var budget = RetryBudget(RetryBudgetSettings(percent: 50, minimumPerWindow: 0, window: .seconds(10)), origin: t0)
        for _ in 0..<10 { budget.recordFirstAttempt(now: at(0)) }
        #expect(allow(&budget, at(9000)))
        #expect(!allow(&budget, at(11_000)))
    }

    @Test func offAllowsEverything() {
        var budget = RetryBudget(.off, origin: t0)
        #expect((0..<1000).allSatisfy { _ in budget.allowRetry(now: at(0)) })
    }

    @Test func theLockedBudgetCountsDeferrals() {
        let budget = LockedRetryBudget(RetryBudgetSettings(percent: 10, minimumPerWindow: 1, window: .seconds(10)), origin: t0)
        #expect(budget.admit(isRetry: false, now: at(0)) == nil)
        #expect(budget.admit(isRetry: true, now: at(0)) == nil)
        #expect(budget.admit(isRetry: true, now: at(0)) != nil)
        #expect(budget.admit(isRetry: true, now: at(0)) != nil)
        #expect(budget.exhaustedCount == 2)
    }
}
