/// What `serve` (without `--sandbox`) needs beyond a readable environment; `check-config` asks
/// the same questions.
extension GatewayConfiguration {
    /// Rokt's token and parent account: required by `serve`, not by `serve --sandbox`.
    func upstreamCredentials() throws(ConfigurationError) -> (token: String, parentAccountId: String) {
        guard let token = roktToken else {
            throw ConfigurationError(variable: "ROKT_API_TOKEN", message: "is required (or ROKT_API_TOKEN_FILE); `serve --sandbox` needs none")
        }
        guard let parent = roktParentAccountId else {
            throw ConfigurationError(variable: "ROKT_PARENT_ACCOUNT_ID", message: "is required; `serve --sandbox` needs none")
        }
        return (token, parent)
    }

    /// Why a plain `serve` refuses this configuration though the environment reads fine, if it does.
    public var plainServeRefusal: ConfigurationError? {
        guard bootstrapApiKey == SandboxDemoKey.material else { return nil }
        return ConfigurationError(
            variable: "GATEWAY_BOOTSTRAP_API_KEY",
            message: "is the public sandbox demo key, which only `serve --sandbox` accepts; choose a secret of your own")
    }
}
