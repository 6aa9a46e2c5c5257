import RoktSandbox

// This file imports only the sandbox, so these names are the sandbox's (Rokt exports the same ones).
typealias SandboxBlockedDomain = BlockedDomain
