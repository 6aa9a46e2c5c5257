import HTTP
import JWT
import Synchronization
#if canImport(Glibc)
    import Glibc
#endif

/// The verification keys in memory, replaced whole when a source loads a new set; requests read
/// them without waiting on the network or the disk.
final class JWKSHolder: Sendable {
    /// The keys, and how many times they were replaced: a token verified under an earlier
    /// generation is verified again (`VerifiedTokens`), since its key may have gone.
    private let current = Mutex<(keys: [VerificationKey], generation: Int)>(([], 0))

    var keys: [VerificationKey] { current.withLock { $0.keys } }
    var snapshot: (keys: [VerificationKey], generation: Int) { current.withLock { $0 } }

    func replace(with keys: [VerificationKey]) { current.withLock { $0 = (keys, $0.generation + 1) } }
}

/// When to fetch the issuer's key set again (pure; README "JWT bearer tokens"). `Cache-Control:
/// max-age` is honoured within 1 min..24 h (10 min without one, as Envoy and jose do); the set is
/// fetched again at 80 % of it, so the keys never lapse while the issuer is up. A failed fetch is
/// retried after 1 s, doubling to 5 min, and the last good set keeps serving meanwhile.
enum JWKSRefreshPolicy {
    static let defaultMaxAge: Duration = .seconds(600)
    static let shortestMaxAge: Duration = .seconds(60)
    static let longestMaxAge: Duration = .seconds(86_400)
    static let longestRetry: Duration = .seconds(300)
    /// An unknown `kid` fetches the set at most this often (Kong's `rediscovery_lifetime`, jose's cooldown).
    static let unknownKeyInterval: Duration = .seconds(30)

    static func maxAge(cacheControl: String?) -> Duration {
        guard let cacheControl else { return defaultMaxAge }
        var maxAge: Duration?
        for directive in cacheControl.lowercased().split(separator: ",") {
            let parts = directive.split(separator: "=", maxSplits: 1).map { String($0).trimmingHTTPWhitespace() }
            switch parts[0] {
            case "no-store", "no-cache": return shortestMaxAge
            case "max-age" where parts.count == 2:
                let value = parts[1].hasPrefix("\"") && parts[1].hasSuffix("\"") && parts[1].count >= 2 ? String(parts[1].dropFirst().dropLast()) : parts[1]
                if let seconds = Int(value), seconds >= 0 { maxAge = .seconds(seconds) }
            default: continue
            }
        }
        guard let maxAge else { return defaultMaxAge }
        return min(max(maxAge, shortestMaxAge), longestMaxAge)
    }

    static func delayAfterSuccess(maxAge: Duration) -> Duration { maxAge * 4 / 5 }

    /// `failures`: consecutive failed fetches, the one that just failed included.
    static func delayAfterFailure(failures: Int) -> Duration {
        guard failures > 0 else { return .seconds(1) }
        return min(.seconds(1) * (1 << min(failures - 1, 20)), longestRetry)
    }
}

/// AUTH_JWKS_URL: fetches the issuer's key set with our HTTP client over TLS, in the background
/// before `max-age` runs out and at once (throttled) for an unknown `kid`. Fetches never overlap:
/// a caller arriving while one runs waits for that one.
final class JWKSRemote: Sendable {
    /// A key set is small; anything larger is not one.
    static let maxResponseBytes = 256 * 1024

    let url: String
    private let client: HTTPClient
    private let holder: JWKSHolder
    private let clock: any WallClock
    private let logger: Logger
    private let state = Mutex<State>(State())

    private struct State {
        var inFlight: Task<Outcome, Never>?
        var lastUnknownKeyFetch: Int64?
        var failures = 0
        var loadedKids: [String?]?
        var lastError: String?
    }

    enum Outcome: Sendable, Equatable {
        case loaded(maxAge: Duration)
        case failed(String)
    }

    init(url: String, additionalCAFile: String?, timeout: Duration, holder: JWKSHolder, clock: any WallClock, logger: Logger) {
        var configuration = HTTPClient.Configuration()
        configuration.tls = .client(trustSystemRoots: true, additionalCAFile: additionalCAFile)
        configuration.connectTimeout = timeout
        configuration.requestTimeout = timeout
        configuration.maxConnectionsPerHost = 2
        configuration.maxResponseBodyBytes = Self.maxResponseBytes
        client = HTTPClient(configuration: configuration)
        self.url = url
        self.holder = holder
        self.clock = clock
        self.logger = logger
    }

    /// Why the last fetch failed, while no fetch has succeeded since (for `/readyz`).
    var lastError: String? { state.withLock { $0.lastError } }

    /// Fetches unless an unknown-kid fetch started in the last 30 s (by the injected clock).
    func refreshForUnknownKey() async {
        let now = clock.nowMillis()
        let allowed = state.withLock { state in
            if let last = state.lastUnknownKeyFetch, now - last < JWKSRefreshPolicy.unknownKeyInterval.milliseconds { return false }
            state.lastUnknownKeyFetch = now
            return true
        }
        guard allowed else { return }
        _ = await refresh()
    }

    /// Fetches now, or joins the fetch already running.
    func refresh() async -> Outcome {
        let task = state.withLock { state in
            if let running = state.inFlight { return running }
            let started = Task { await self.fetch() }
            state.inFlight = started
            return started
        }
        let outcome = await task.value
        state.withLock { if $0.inFlight == task { $0.inFlight = nil } }
        return outcome
    }

    /// Keeps the set fresh until cancelled: the next fetch at 80 % of `max-age`, or with backoff after a failure.
    func run(after first: Outcome) async {
        var outcome = first
        while !Task.isCancelled {
            let delay: Duration
            switch outcome {
            case .loaded(let maxAge): delay = JWKSRefreshPolicy.delayAfterSuccess(maxAge: maxAge)
            case .failed: delay = JWKSRefreshPolicy.delayAfterFailure(failures: state.withLock { $0.failures })
            }
            do { try await Task.sleep(for: delay) } catch { return }
            outcome = await refresh()
        }
    }

    func shutdown() { client.shutdown() }

    private func fetch() async -> Outcome {
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: "application/jwk-set+json, application/json")
        let response: HTTPClientResponse
        do { response = try await client.execute(HTTPClientRequest(method: .get, url: url, headers: headers)) } catch { return failed(error.description) }
        guard response.status.code == 200 else { return failed("the issuer answered \(response.status.code)") }
        let set: JSONWebKeySet
        do { set = try JSONWebKeySet(parsing: response.body) } catch { return failed("the key set \(error.description)") }
        guard !set.keys.isEmpty else { return failed("the key set has no usable key") }
        holder.replace(with: set.keys)
        report(set, source: url)
        return .loaded(maxAge: JWKSRefreshPolicy.maxAge(cacheControl: response.headers["Cache-Control"]))
    }

    private func report(_ set: JSONWebKeySet, source: String) {
        let kids = set.keys.map(\.id)
        let changed = state.withLock { state in
            state.failures = 0
            state.lastError = nil
            defer { state.loadedKids = kids }
            return state.loadedKids != kids
        }
        JWKSLog.loaded(set, source: source, changed: changed, logger: logger)
    }

    private func failed(_ reason: String) -> Outcome {
        let failures = state.withLock { state in
            state.failures += 1
            state.lastError = reason
            return state.failures
        }
        let kept = holder.keys.count
        logger.log(
            kept == 0 ? .error : .warn, "jwks fetch failed",
            values: [
                "url": .string(url), "reason": .string(reason), "keys_kept": .int(kept),
                "retry_in_ms": .int(Int(JWKSRefreshPolicy.delayAfterFailure(failures: failures).milliseconds)),
            ])
        return .failed(reason)
    }
}

/// AUTH_JWKS_FILE: the operator's own key set (it may hold HS256 secrets as `oct` keys), read
/// again when its inode, size or modification time changes (a ConfigMap or Secret update).
final class JWKSFile: Sendable {
    let path: String
    private let holder: JWKSHolder
    private let logger: Logger
    private let seen = Mutex<FileIdentity?>(nil)

    struct FileIdentity: Equatable {
        var device: UInt64, inode: UInt64, size: Int64, modifiedNanos: Int64
    }

    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    static let maxBytes = 1 << 20

    init(path: String, holder: JWKSHolder, logger: Logger) {
        self.path = path
        self.holder = holder
        self.logger = logger
    }

    static func load(_ path: String) throws(LoadError) -> JSONWebKeySet {
        let bytes: [UInt8]
        do { bytes = try WholeFile.read(path, limit: maxBytes) } catch { throw LoadError(description: error.reason) }
        let set: JSONWebKeySet
        do { set = try JSONWebKeySet(parsing: bytes, allowSharedSecrets: true) } catch { throw LoadError(description: error.description) }
        guard !set.keys.isEmpty else { throw LoadError(description: "has no usable key") }
        return set
    }

    static func identity(_ path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileIdentity(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modifiedNanos: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }

    /// Loads the file when it differs from the last look; a file that cannot be used leaves the
    /// keys as they were. Returns whether a new set was loaded.
    @discardableResult
    func reloadIfChanged() -> Bool {
        let identity = Self.identity(path)
        guard seen.withLock({ $0 != identity }) else { return false }
        seen.withLock { $0 = identity }
        do {
            let set = try Self.load(path)
            holder.replace(with: set.keys)
            JWKSLog.loaded(set, source: path, changed: true, logger: logger)
            return true
        } catch {
            logger.log(
                holder.keys.isEmpty ? .error : .warn, "jwks file not loaded",
                values: ["path": .string(path), "reason": .string(error.description), "keys_kept": .int(holder.keys.count)])
            return false
        }
    }

    /// Looks at the file every `interval` until cancelled.
    func watch(every interval: Duration = .seconds(1)) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            reloadIfChanged()
        }
    }
}

enum JWKSLog {
    static func loaded(_ set: JSONWebKeySet, source: String, changed: Bool, logger: Logger) {
        let kids = set.keys.map { $0.id ?? "-" }.joined(separator: " ")
        logger.log(changed ? .info : .debug, "jwks loaded", values: ["source": .string(source), "keys": .int(set.keys.count), "kids": .string(kids)])
        guard changed else { return }
        for skipped in set.skipped {
            logger.warn("jwks key skipped", ["source": source, "kid": skipped.key, "reason": skipped.reason])
        }
    }
}
