import Testing

@testable import Postgres

/// libpq's connection strings (https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING),
/// the documentation's own examples first.
@Suite struct ConnectionStringTests {
    func parse(_ text: String, password: String? = nil) throws -> PostgresConfiguration {
        try PostgresConfiguration(connectionString: text, password: password, defaultUser: "osuser")
    }

    @Test func theDocumentationsURIExamples() throws {
        let empty = try parse("postgresql://")
        #expect(empty.endpoints == [.unixSocket(directory: "/var/run/postgresql", port: 5432)])
        #expect(empty.user == "osuser" && empty.database == "osuser" && empty.password == nil && empty.sslMode == .prefer)

        #expect(try parse("postgresql://localhost").endpoints == [.tcp(host: "localhost", address: nil, port: 5432)])
        #expect(try parse("postgresql://localhost:5433").endpoints == [.tcp(host: "localhost", address: nil, port: 5433)])
        #expect(try parse("postgresql://localhost/mydb").database == "mydb")
        #expect(try parse("postgresql://user@localhost").user == "user")
        #expect(try parse("postgresql://user@localhost").database == "user")
        #expect(try parse("postgresql://user:secret@localhost").password == PostgresPassword("secret"))

        let other = try parse("postgresql://other@localhost/otherdb?connect_timeout=10&application_name=myapp")
        #expect(other.user == "other" && other.database == "otherdb")
        #expect(other.connectTimeout == .seconds(10) && other.applicationName == "myapp")

        let hosts = try parse("postgresql://host1:123,host2:456/somedb?target_session_attrs=any&application_name=myapp")
        #expect(hosts.endpoints == [.tcp(host: "host1", address: nil, port: 123), .tcp(host: "host2", address: nil, port: 456)])
        #expect(hosts.targetSessionAttributes == .any && hosts.database == "somedb")

        let queryHost = try parse("postgresql:///mydb?host=localhost&port=5433")
        #expect(queryHost.endpoints == [.tcp(host: "localhost", address: nil, port: 5433)] && queryHost.database == "mydb")

        #expect(try parse("postgresql://[2001:db8::1234]/database").endpoints == [.tcp(host: "2001:db8::1234", address: nil, port: 5432)])
        #expect(try parse("postgresql://[::1]:5433").endpoints == [.tcp(host: "::1", address: nil, port: 5433)])

        let socket = try parse("postgresql:///dbname?host=/var/lib/postgresql")
        #expect(socket.endpoints == [.unixSocket(directory: "/var/lib/postgresql", port: 5432)])
        #expect(socket.endpoints.first?.socketPath == "/var/lib/postgresql/.s.PGSQL.5432")
        #expect(try parse("postgresql://%2Fvar%2Flib%2Fpostgresql/dbname").endpoints == socket.endpoints)

        let overridden = try parse("postgresql://localhost/mydb?user=other&password=secret")
        #expect(overridden.user == "other" && overridden.password == PostgresPassword("secret"))
    }

    @Test func bothSchemesAndPercentDecodingEverywhere() throws {
        let configuration = try parse("postgres://us%40er:p%40ss%3Aw%2Ford@db.example:6543/my%20db?application_name=gate%20way&options=-c%20statement_timeout%3D5s")
        #expect(configuration.user == "us@er")
        #expect(configuration.password?.text == "p@ss:w/ord")
        #expect(configuration.database == "my db")
        #expect(configuration.applicationName == "gate way")
        #expect(configuration.options == "-c statement_timeout=5s")
        #expect(configuration.endpoints == [.tcp(host: "db.example", address: nil, port: 6543)])
        // `+` is not a space in libpq's URIs.
        #expect(try parse("postgres://u:a+b@h").password?.text == "a+b")
    }

    @Test func hostListsShareOnePortOrHaveOneEach() throws {
        #expect(try parse("host=a,b port=7000").endpoints == [.tcp(host: "a", address: nil, port: 7000), .tcp(host: "b", address: nil, port: 7000)])
        #expect(try parse("postgres://a,b:7001").endpoints == [.tcp(host: "a", address: nil, port: 5432), .tcp(host: "b", address: nil, port: 7001)])
        #expect(try parse("postgres://[::1]:1,127.0.0.1:2/db").endpoints == [.tcp(host: "::1", address: nil, port: 1), .tcp(host: "127.0.0.1", address: nil, port: 2)])
        #expect(throws: ConnectionStringError.mismatchedLists("2 hosts but 3 ports")) { try parse("host=a,b port=1,2,3") }
    }

    @Test func hostaddrIsConnectedToWhileHostIsVerified() throws {
        #expect(try parse("host=db.example hostaddr=10.0.0.1").endpoints == [.tcp(host: "db.example", address: "10.0.0.1", port: 5432)])
        #expect(try parse("hostaddr=::1").endpoints == [.tcp(host: "::1", address: "::1", port: 5432)])
        #expect(throws: ConnectionStringError.invalidValue(parameter: "hostaddr", value: "db.example", expected: "a numeric IPv4 or IPv6 address")) {
            try parse("hostaddr=db.example")
        }
        #expect(throws: ConnectionStringError.mismatchedLists("2 host names but 1 hostaddr values")) { try parse("host=a,b hostaddr=10.0.0.1") }
    }

    @Test func keywordValueFormWithQuotingAndEscapes() throws {
        let configuration = try parse(#"host=localhost port=5432 dbname=mydb connect_timeout=10 user = y password='a b\' c'"#)
        #expect(configuration.endpoints == [.tcp(host: "localhost", address: nil, port: 5432)])
        #expect(configuration.database == "mydb" && configuration.user == "y" && configuration.connectTimeout == .seconds(10))
        #expect(configuration.password?.text == "a b' c")
        #expect(try parse(#"password=back\\slash\ space"#).password?.text == #"back\slash space"#)
        #expect(try parse("password=''").password == nil)
        #expect(try parse("").endpoints == [.unixSocket(directory: "/var/run/postgresql", port: 5432)])
    }

    @Test func sslModesAndTheirMeaning() throws {
        #expect(try parse("postgres://h").sslMode == .prefer)
        for mode in SSLMode.allCases { #expect(try parse("postgres://h?sslmode=\(mode.rawValue)").sslMode == mode) }
        #expect(try parse("postgres://h?ssl=true").sslMode == .require)
        #expect(SSLMode.prefer.triesTLSFirst && !SSLMode.prefer.requiresTLS)
        #expect(!SSLMode.allow.triesTLSFirst && !SSLMode.disable.triesTLSFirst)
        #expect(SSLMode.require.requiresTLS && !SSLMode.require.verifiesChain(rootCertificate: nil))
        #expect(SSLMode.require.verifiesChain(rootCertificate: "/ca.pem"))
        #expect(SSLMode.verifyCA.verifiesChain(rootCertificate: nil) && !SSLMode.verifyCA.verifiesHostName)
        #expect(SSLMode.verifyFull.verifiesHostName)
        #expect(try parse("postgres://h?sslrootcert=system").sslMode == .verifyFull)
        #expect(throws: ConnectionStringError.self) { try parse("postgres://h?sslrootcert=system&sslmode=require") }
    }

    @Test func connectTimeoutFollowsLibpq() throws {
        #expect(try parse("connect_timeout=1").connectTimeout == .seconds(2))
        #expect(try parse("connect_timeout=0").connectTimeout == nil)
        #expect(try parse("connect_timeout=-3").connectTimeout == nil)
        #expect(throws: ConnectionStringError.invalidValue(parameter: "connect_timeout", value: "5s", expected: "whole seconds")) { try parse("connect_timeout=5s") }
    }

    @Test func thePasswordMayComeFromTheCaller() throws {
        #expect(try parse("postgres://u@h/db", password: "from-file").password?.text == "from-file")
        #expect(throws: ConnectionStringError.passwordGivenTwice) { try parse("postgres://u:p@h/db", password: "from-file") }
        #expect(try parse("postgres://u:@h/db", password: "from-file").password?.text == "from-file")
    }

    @Test func aUserIsRequiredWithoutADefault() throws {
        #expect(throws: ConnectionStringError.missingUser) { try PostgresConfiguration(connectionString: "postgres://h/db") }
        #expect(try PostgresConfiguration(connectionString: "postgres://u@h").user == "u")
    }
}
