import Testing

@testable import Postgres

/// Connection strings libpq refuses too, or that ask for what this client cannot do: typed
/// errors naming the part, never showing the password.
@Suite struct ConnectionStringErrorTests {
    func error(_ text: String) -> ConnectionStringError? {
        do {
            _ = try PostgresConfiguration(connectionString: text, defaultUser: "osuser")
            return nil
        } catch { return error }
    }

    @Test func badPorts() {
        #expect(error("postgres://u@h:54x2/db") == .invalidPort("54x2"))
        #expect(error("postgres://u@h:0/db") == .invalidPort("0"))
        #expect(error("postgres://u@h:65536/db") == .invalidPort("65536"))
        #expect(error("postgres://u@h:-1/db") == .invalidPort("-1"))
        #expect(error("port=' 5432'") == .invalidPort(" 5432"))
        #expect(error("postgres://[::1]x/db") == .syntax("unexpected \"x\" after the IPv6 address [::1]"))
        #expect(error("postgres://[::1/db") == .syntax("the IPv6 address after \"[\" has no closing \"]\""))
        #expect(error("postgres://[]/db") == .syntax("an IPv6 host address may not be empty"))
    }

    @Test func badPercentEscapesNameThePart() {
        #expect(error("postgres://u%zz@h/db") == .badPercentEncoding(part: "user"))
        #expect(error("postgres://u:secret%4@h/db") == .badPercentEncoding(part: "password"))
        #expect(error("postgres://h%/db") == .badPercentEncoding(part: "host"))
        #expect(error("postgres://h/d%00b") == .badPercentEncoding(part: "dbname"))
        #expect(error("postgres://h/db?application_name=%FF") == .badPercentEncoding(part: "the query parameter application_name"))
        #expect(error("postgres://h/db?%zz=1") == .badPercentEncoding(part: "a query parameter name"))
    }

    @Test func unknownAndUnsupportedParameters() {
        #expect(error("postgres://h/db?foo=bar") == .unknownParameter("foo"))
        #expect(error("host=h colour=blue") == .unknownParameter("colour"))
        #expect(error("postgres://h/db?sslcert=/c.pem") == .unsupportedParameter("sslcert"))
        #expect(error("postgres://h/db?channel_binding=require") == .unsupportedValue(parameter: "channel_binding", value: "require"))
        #expect(error("postgres://h/db?channel_binding=maybe") == .invalidValue(parameter: "channel_binding", value: "maybe", expected: "disable or prefer"))
    }

    @Test func badValues() {
        #expect(error("postgres://h/db?sslmode=maybe") == .invalidValue(parameter: "sslmode", value: "maybe", expected: "disable, allow, prefer, require, verify-ca, verify-full"))
        #expect(error("postgres://h/db?target_session_attrs=primary-ish") != nil)
        #expect(error("postgres://h/db?ssl=false") == .invalidValue(parameter: "ssl", value: "false", expected: "true (or use sslmode)"))
    }

    @Test func malformedSyntax() {
        #expect(error("postgres://h/db?sslmode") == .syntax("the query parameter \"sslmode\" needs exactly one \"=\" between its name and value"))
        #expect(error("postgres://h/db?sslmode=a=b") != nil)
        #expect(error("host=h dbname='db") == .syntax("the quoted value of \"dbname\" has no closing quote"))
        #expect(error("host localhost") == .syntax("missing \"=\" after \"host\""))
    }

    @Test func thePasswordAppearsInNoDescriptionOrError() throws {
        let secret = "hunter2-Very-Secret"
        let configuration = try PostgresConfiguration(connectionString: "postgres://gateway:\(secret)@db.example:5433/gateway?application_name=gw")
        #expect(configuration.password?.text == secret)
        var dumped = ""
        dump(configuration, to: &dumped)
        for text in ["\(configuration)", String(reflecting: configuration), dumped] {
            #expect(!text.contains(secret), "\(text)")
        }
        #expect("\(configuration)" == "user=gateway password=******** dbname=gateway host=db.example port=5433 sslmode=prefer application_name=gw")
        // Half of an unquoted password with a space must not be echoed as a "keyword".
        let broken = error("user=u password=\(secret) tail-of-it")
        #expect(broken == .syntax("missing \"=\" after a word (quote values that hold spaces)"))
        #expect(error("postgres://u:\(secret)%G1@h/db").map { "\($0)" }?.contains(secret) == false)
    }
}
