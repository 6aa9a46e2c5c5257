import HTTP
import Testing
@testable import Gateway

/// The pure rules of `Authorization`, `Caller`, `BearerChallenge` and the publishable-key CORS
/// addition, without sockets.
@Suite struct AuthorizationRulesTests {
    static let secret = ApiKey(id: "key_s", name: "s", scopes: [.read], merchants: ["m1"], createdAt: 0, revokedAt: nil)
    static let publishable = ApiKey(
        id: "key_p", name: "p", scopes: [], merchants: [], createdAt: 0, revokedAt: nil, kind: .publishable,
        origins: ["https://shop.example.com"])
    static let user = TokenPrincipal(issuer: "https://idp.example.com/", subject: "alice", tokenId: "jti-1", scopes: [.read, .write], merchants: ["m1"])

    static func attempt(
        _ method: HTTPMethod, _ template: String, merchant: String? = nil, origin: String? = nil
    ) throws -> Authorization.Attempt {
        var headers = HTTPHeaders()
        if let origin { headers["Origin"] = origin }
        return Authorization.Attempt(
            method: method, template: template, headers: headers, remoteAddress: "10.0.0.1",
            requirement: try #require(KeyRequirement.of(method: method, template: template)), merchant: merchant)
    }

    @Test func challengesFollowRFC6750() {
        #expect(BearerChallenge.credentialMissing.headerValue == #"Bearer realm="rokt-gateway""#)
        #expect(
            BearerChallenge.invalidToken("the token expired").headerValue
                == #"Bearer realm="rokt-gateway", error="invalid_token", error_description="the token expired""#)
        #expect(
            BearerChallenge.insufficientScope(.write).headerValue == #"Bearer realm="rokt-gateway", error="insufficient_scope", scope="write""#)
        // error_description allows no `"` nor `\` nor anything outside printable ASCII: the header always parses.
        #expect(BearerChallenge.errorDescription(#"kid "a\b" é"#) == "kid 'a?b' ?")
    }

    @Test func theCredentialComesFromABearerHeaderOnly() {
        #expect(Authorization.bearerCredential(["Authorization": "Bearer rgw_x"]) == "rgw_x")
        #expect(Authorization.bearerCredential(["Authorization": "bearer  eyJ.a.b "]) == "eyJ.a.b")
        #expect(Authorization.bearerCredential(["Authorization": "Basic dXNlcg=="]) == nil)
        #expect(Authorization.bearerCredential(["Authorization": "Bearer    "]) == nil)
        #expect(Authorization.bearerCredential([:]) == nil)
    }

    @Test func theMaterialsFormNamesItsKind() {
        #expect(ApiKeyMaterial.kind(of: ApiKeyMaterial.mint()) == .secret)
        #expect(ApiKeyMaterial.kind(of: ApiKeyMaterial.mint(.publishable)) == .publishable)
        #expect(ApiKeyMaterial.mint(.publishable).utf8.count == 3 + 43)
        #expect(ApiKeyMaterial.kind(of: "eyJhbGciOiJSUzI1NiJ9.e30.sig") == nil)
    }

    @Test func callersHaveStableIdsAndPartitions() {
        let key = Caller(.apiKey(Self.secret))
        #expect(key.id == "key_s" && key.rateLimitPartition == RateLimitPartition.apiKey(id: "key_s") && key.apiKeyId == "key_s")
        let shopper = Caller(.publishableKey(Self.publishable, clientAddress: "203.0.113.9"))
        #expect(shopper.id == "key_p")
        #expect(shopper.rateLimitPartition == RateLimitPartition.publishable(keyId: "key_p", clientAddress: "203.0.113.9"))
        #expect(shopper.scopes.isEmpty && shopper.merchants == [])
        let alice = Caller(.user(Self.user))
        #expect(alice.id.hasPrefix("user:") && alice.id.hasSuffix(":alice") && alice.apiKeyId == nil)
        #expect(alice.rateLimitPartition == alice.id)
        // The same `sub` from another issuer is another caller (its own Idempotency-Keys and limits).
        var other = Self.user
        other.issuer = "https://other-idp.example.com/"
        #expect(Caller(.user(other)).id != alice.id)
        #expect(Caller(.user(other)).rateLimitPartition != alice.rateLimitPartition)
    }

    @Test func scopesAndMerchantsAreCheckedAlikeForKeysAndUsers() throws {
        let controls = "/v1/merchants/{accountId}/controls"
        for caller in [Caller(.apiKey(Self.secret)), Caller(.user(Self.user))] {
            #expect(Authorization.refusal(of: caller, for: try Self.attempt(.get, controls, merchant: "m1")) == nil)
            let elsewhere = try #require(Authorization.refusal(of: caller, for: try Self.attempt(.get, controls, merchant: "m2")))
            #expect(elsewhere.problem.status == 403 && elsewhere.challenge == nil)
        }
        let write = try Self.attempt(.put, controls, merchant: "m1")
        let underScoped = try #require(Authorization.refusal(of: Caller(.apiKey(Self.secret)), for: write))
        #expect(underScoped.problem.status == 403 && underScoped.problem.code == "forbidden")
        #expect(underScoped.challenge == .insufficientScope(.write))
        #expect(Authorization.refusal(of: Caller(.user(Self.user)), for: write) == nil)
    }

    @Test func aPublishableKeyMayOnlyAskForPlacementsFromItsOrigins() throws {
        let shopper = Caller(.publishableKey(Self.publishable, clientAddress: nil))
        #expect(Authorization.refusal(of: shopper, for: try Self.attempt(.post, "/v1/placements/any", origin: "https://shop.example.com")) == nil)
        #expect(Authorization.refusal(of: shopper, for: try Self.attempt(.post, "/v1/placements/any", origin: "https://SHOP.example.com")) == nil)
        for attempt in [
            try Self.attempt(.post, "/v1/placements/any", origin: "https://evil.example.com"),
            try Self.attempt(.post, "/v1/placements/any"),
            try Self.attempt(.get, "/v1/merchants", origin: "https://shop.example.com"),
            try Self.attempt(.get, "/v1/operations/{id}", origin: "https://shop.example.com"),
        ] {
            let refusal = try #require(Authorization.refusal(of: shopper, for: attempt), "\(attempt.method) \(attempt.template)")
            #expect(refusal.problem.status == 403 && refusal.problem.code == "forbidden" && refusal.challenge == nil)
            #expect(!refusal.problem.detail.contains("pk_") && !refusal.problem.detail.contains("shop.example.com"))
        }
    }

    @Test func placementsAdmitsActivePublishableOriginsOnlyThere() throws {
        let configured = try CORSPolicy(parsing: "https://admin.example.com")
        let known: (String) -> Bool = { $0 == "https://shop.example.com" }
        let placements = configured.forRequest(path: "/v1/placements/any", origin: "https://Shop.example.com", isPublishableOrigin: known)
        #expect(placements.allows(origin: "https://shop.example.com") && placements.allows(origin: "https://admin.example.com"))
        var response = HTTPResponse(status: .ok)
        placements.decorate(&response, origin: "https://Shop.example.com")
        #expect(response.headers["Access-Control-Allow-Origin"] == "https://Shop.example.com")
        #expect(response.headers["Access-Control-Expose-Headers"]?.contains("WWW-Authenticate") == true)
        // Another route, or an origin no key lists: the configured policy, unchanged.
        #expect(configured.forRequest(path: "/v1/merchants", origin: "https://shop.example.com", isPublishableOrigin: known) == configured)
        #expect(configured.forRequest(path: "/v1/placements/any", origin: "https://evil.example.com", isPublishableOrigin: known) == configured)
        // With CORS_ALLOWED_ORIGINS empty, placements still answers a publishable origin's preflight.
        let off = CORSPolicy(allowedOrigins: [])
        let preflight = HTTPRequest(
            method: .options, target: "/v1/placements/any",
            headers: ["Origin": "https://shop.example.com", "Access-Control-Request-Method": "POST"])
        let admitted = off.forRequest(path: "/v1/placements/any", origin: "https://shop.example.com", isPublishableOrigin: known)
        #expect(admitted.isPreflight(preflight))
        #expect(admitted.preflightResponse(origin: "https://shop.example.com", methods: [.post]).status == .noContent)
        #expect(!off.forRequest(path: "/v1/merchants", origin: "https://shop.example.com", isPublishableOrigin: known).isEnabled)
    }

    /// Every option error is found before anything is stored.
    @Test func publishableOptionsAreCheckedBeforeAKeyIsStored() async throws {
        var refused: [[String]] = ["*", "shop.example.com", "https://shop.example.com/checkout", "https://user@shop.example.com"].map {
            ["create", "--publishable", "--name", "shop", "--origin", $0]
        }
        refused += [
            ["create", "--publishable", "--name", "shop"],
            ["create", "--publishable", "--name", "shop", "--origin", "https://shop.example.com", "--scope", "read"],
            ["create", "--publishable", "--name", "shop", "--origin", "https://shop.example.com", "--merchant", "m1"],
            ["create", "--name", "server", "--scope", "read", "--origin", "https://shop.example.com"],
        ]
        try await StoreBackends.sqlite.withStore { (store: any GatewayStore, _: String) async throws in
            let service = ApiKeyService(store: store, clock: SystemWallClock())
            for arguments in refused {
                await #expect(throws: AdminCommands.UsageError.self, "\(arguments)") { _ = try await AdminCommands.keys(arguments, service: service) }
            }
            let stored = try await store.allKeys()
            #expect(stored.isEmpty)
        }
    }
}
