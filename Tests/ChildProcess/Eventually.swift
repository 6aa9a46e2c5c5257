/// Polls `condition` until it holds or `timeout` passes; the one wait the test suites share.
///
/// What a test waits for runs on other threads (an event loop, the engine, a child process), so
/// it is polled in real time. The timeout is a ceiling that only a broken run reaches: a loaded
/// machine running the whole suite on two cores can take seconds to get there, so it is generous
/// and a passing run never pays it.
public func eventually(
    timeout: Duration = .seconds(30), every interval: Duration = .milliseconds(5), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}
