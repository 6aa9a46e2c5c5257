import HTTP

/// The sandbox's HTTP surface: the Partnerships and Ecommerce routes, the admin routes, and
/// the envelope answers for everything that matches no route.
enum SandboxRoutes {
    /// Every modelled endpoint, with the docs' path templates.
    static let table: [(method: HTTPMethod, template: String, endpoint: SandboxEndpoint)] = [
        (.post, "/v1/accounts/register/partnership", .register),
        (.get, "/v1/partnership/accounts", .listAccounts),
        (.get, "/v1/partnership/accounts/{account_id}/marketplacecontrolslists", .getControls),
        (.put, "/v1/partnership/accounts/{account_id}/marketplacecontrolslists", .putControls),
        (.get, "/v1/partnership/accounts/{account_id}/status", .getStatus),
        (.put, "/v1/partnership/accounts/{account_id}/status", .putStatus),
        (.patch, "/v1/partnership/accounts/{account_id}/layouts/{layout_id}", .patchLayout),
        (.post, "/v1/partnership/accounts/{account_id}/pages", .createPage),
        (.post, "/v1/partnership/accounts/{account_id}/payout-setup", .payoutSetup),
        (.post, "/v1/partnership/accounts/{account_id}/data-deletion-requests", .requestDataDeletion),
        (.post, "/v1/partnership/network-privacy-requests", .requestNetworkPrivacy),
        (.get, "/v1/partnership/operations/{operation_id}", .getOperation),
        (.post, "/v1/Placements/any", .placementsAny),
    ]

    static let adminPrefix = "/__sandbox/"

    /// The whole request handler: routes, then a 404/405/400 in the envelope for what no
    /// route takes (logged like any request), and plain JSON 404s under the admin prefix.
    static func handler(engine: SandboxEngine, adminEnabled: Bool) -> HTTPHandler {
        var router = Router()
        for route in table {
            let endpoint = route.endpoint
            router.add(route.method, route.template) { request in try await engine.serve(request, endpoint: endpoint) }
        }
        if adminEnabled { SandboxAdminRoutes.register(on: &router, engine: engine) }
        let routes = router
        return { request in
            switch routes.match(method: request.method, path: request.path) {
            case .found(let handler, let parameters, let template, _):
                var request = request
                request.pathParameters = parameters
                request.routeTemplate = template
                return try await handler(request)
            case .methodNotAllowed(let allowed) where !request.path.hasPrefix(adminPrefix):
                return try await engine.serve(request, endpoint: .methodNotAllowed(allowed: allowed.map(\.rawValue)))
            case .badRequest(let reason) where !request.path.hasPrefix(adminPrefix):
                return try await engine.serve(request, endpoint: .badPath(reason))
            case .notFound where !request.path.hasPrefix(adminPrefix):
                return try await engine.serve(request, endpoint: .notFound)
            default:
                return SandboxAdminRoutes.json(404, ["error": .string("No admin endpoint \(request.method) \(request.path)")])
            }
        }
    }
}
