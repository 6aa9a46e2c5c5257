import HTTP
import JSON
import Rokt

/// `POST /v1/merchants/{accountId}/payout-setup`: starts Stripe Connect onboarding; the
/// operation's result carries the onboarding link. Rokt cannot dry-run it (it creates a Stripe
/// account), so `dry_run` is a 400.
enum PayoutRoutes {
    /// An optional `{returnUrl?, refreshUrl?}`: where Stripe sends the merchant back.
    static func setup(_ request: HTTPRequest, merchant: String) throws(Problem) -> (write: SingleWrite, request: JSONValue) {
        var fields = RequestBody.Fields(try RequestBody.optionalObject(request))
        var body: [String: JSONValue] = [:]
        for field in ["returnUrl", "refreshUrl"] {
            if let url = fields.url(field) { body[field] = .string(url) }
        }
        fields.refuseUnknown(allowed: ["returnUrl", "refreshUrl"])
        try fields.check()
        return (
            SingleWrite(kind: .payoutSetup, lane: "payout", method: "POST", path: RoktPath.payoutSetup(merchant), body: .object(body)),
            .object(body)
        )
    }
}
