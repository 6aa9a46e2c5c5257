/// What every round knows of its job run: the engine's settings, the job, and the wall clock
/// and fresh idempotency keys, injected so tests fix them.
struct RoundSetting {
    let configuration: EngineConfiguration
    /// The job's failed runs so far: a retry backs off from `attempts + 1`.
    let attempts: Int
    let merchantId: String
    let resource: String
    /// Wall-clock milliseconds.
    let now: () -> Int64
    let newKey: () -> String

    init(configuration: EngineConfiguration, job: ClaimedJob, now: @escaping () -> Int64, newKey: @escaping () -> String) {
        self.configuration = configuration
        attempts = job.attempts
        merchantId = job.merchantId
        resource = job.resource
        self.now = now
        self.newKey = newKey
    }
}
