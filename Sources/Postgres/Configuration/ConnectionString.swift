import HTTP

/// libpq's two connection-string forms, read into keyword/value pairs in order (a later pair
/// overrides an earlier one), as https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNSTRING
/// describes them. Only the syntax is checked here; `PostgresConfiguration` checks the values.
enum ConnectionString {
    static func parameters(_ text: String) throws(ConnectionStringError) -> [(keyword: String, value: String)] {
        for prefix in ["postgresql://", "postgres://"] where text.hasPrefix(prefix) {
            return try uriParameters(text.dropFirst(prefix.count))
        }
        return try keywordValueParameters(text)
    }

    /// `[user[:password]@][host][:port][,host[:port]…][/dbname][?keyword=value&…]`, every part
    /// percent-decoded; `[…]` encloses an IPv6 address.
    static func uriParameters(_ uri: Substring) throws(ConnectionStringError) -> [(keyword: String, value: String)] {
        var result: [(keyword: String, value: String)] = []
        var rest = uri
        // libpq: the user part ends at the first `@` before any `/`.
        if let at = rest.firstIndex(where: { $0 == "@" || $0 == "/" }), rest[at] == "@" {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let colon = credentials.firstIndex(of: ":")
            let user = try decoded(credentials[..<(colon ?? credentials.endIndex)], part: "user")
            if !user.isEmpty { result.append(("user", user)) }
            if let colon { result.append(("password", try decoded(credentials[credentials.index(after: colon)...], part: "password"))) }
        }

        var hosts: [Substring] = []
        var ports: [Substring] = []
        var anyPort = false
        while true {
            var host: Substring
            if rest.first == "[" {
                guard let close = rest.firstIndex(of: "]") else { throw .syntax("the IPv6 address after \"[\" has no closing \"]\"") }
                host = rest[rest.index(after: rest.startIndex)..<close]
                guard !host.isEmpty else { throw .syntax("an IPv6 host address may not be empty") }
                rest = rest[rest.index(after: close)...]
                guard rest.isEmpty || ":/?,".contains(rest.first!) else { throw .syntax("unexpected \"\(rest.first!)\" after the IPv6 address [\(host)]") }
            } else {
                let end = rest.firstIndex(where: { ":/?,".contains($0) }) ?? rest.endIndex
                host = rest[..<end]
                rest = rest[end...]
            }
            var port: Substring = ""
            if rest.first == ":" {
                let end = rest.firstIndex(where: { "/?,".contains($0) }) ?? rest.endIndex
                port = rest[rest.index(after: rest.startIndex)..<end]
                rest = rest[end...]
                anyPort = true
            }
            hosts.append(host)
            ports.append(port)
            guard rest.first == "," else { break }
            rest = rest.dropFirst()
        }
        // Percent-decoded as one list, as libpq does: `%2C` inside a host also separates hosts.
        let hostList = hosts.joined(separator: ",")
        if !hostList.isEmpty || hosts.count > 1 { result.append(("host", try decoded(Substring(hostList), part: "host"))) }
        if anyPort { result.append(("port", try decoded(Substring(ports.joined(separator: ",")), part: "port"))) }

        if rest.first == "/" {
            let end = rest.firstIndex(of: "?") ?? rest.endIndex
            let database = try decoded(rest[rest.index(after: rest.startIndex)..<end], part: "dbname")
            if !database.isEmpty { result.append(("dbname", database)) }
            rest = rest[end...]
        }
        if rest.first == "?" {
            for pair in rest.dropFirst().split(separator: "&", omittingEmptySubsequences: false) {
                let pieces = pair.split(separator: "=", omittingEmptySubsequences: false)
                guard pieces.count == 2 else {
                    throw .syntax("the query parameter \"\(pieces[0])\" needs exactly one \"=\" between its name and value")
                }
                let keyword = try decoded(pieces[0], part: "a query parameter name")
                let value = try decoded(pieces[1], part: "the query parameter \(keyword)")
                // JDBC's spelling, which libpq accepts in URIs.
                if keyword == "ssl" {
                    guard value == "true" else { throw .invalidValue(parameter: "ssl", value: value, expected: "true (or use sslmode)") }
                    result.append(("sslmode", "require"))
                } else {
                    result.append((keyword, value))
                }
            }
        }
        return result
    }

    private static func decoded(_ text: Substring, part: String) throws(ConnectionStringError) -> String {
        guard let value = PercentEncoding.decode(text), !value.utf8.contains(0) else { throw .badPercentEncoding(part: part) }
        return value
    }

    /// `keyword = value …`, whitespace-separated; a value in single quotes may hold spaces, and
    /// `\'` and `\\` escape in quoted and unquoted values alike.
    static func keywordValueParameters(_ text: String) throws(ConnectionStringError) -> [(keyword: String, value: String)] {
        var result: [(keyword: String, value: String)] = []
        var rest = Substring(text)
        func skipSpaces() { rest = rest.drop(while: \.isWhitespace) }
        while true {
            skipSpaces()
            guard !rest.isEmpty else { return result }
            let keywordEnd = rest.firstIndex(where: { $0.isWhitespace || $0 == "=" }) ?? rest.endIndex
            let keyword = String(rest[..<keywordEnd])
            rest = rest[keywordEnd...]
            skipSpaces()
            guard rest.first == "=" else {
                // Name it only when it is a parameter: a stray word may be half of an unquoted password.
                let known = PostgresConfiguration.supportedParameters.contains(keyword)
                throw .syntax(known ? "missing \"=\" after \"\(keyword)\"" : "missing \"=\" after a word (quote values that hold spaces)")
            }
            rest = rest.dropFirst()
            skipSpaces()
            var value = ""
            let quoted = rest.first == "'"
            if quoted { rest = rest.dropFirst() }
            while let character = rest.first {
                if quoted && character == "'" || !quoted && character.isWhitespace { break }
                rest = rest.dropFirst()
                if character == "\\", let escaped = rest.first {
                    value.append(escaped)
                    rest = rest.dropFirst()
                } else {
                    value.append(character)
                }
            }
            if quoted {
                guard rest.first == "'" else { throw .syntax("the quoted value of \"\(keyword)\" has no closing quote") }
                rest = rest.dropFirst()
            }
            result.append((keyword, value))
        }
    }
}
