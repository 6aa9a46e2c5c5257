import RoktSandbox

// Argument parsing and serving live in the RoktSandbox module (`SandboxCommand`), which
// rokt-gateway runs too when started as rokt-sandbox.
SandboxCommand.run(Array(CommandLine.arguments.dropFirst()))
