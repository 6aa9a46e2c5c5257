extension PostgresFrontendMessage {
    /// Parse for a statement whose parameters are `values`: their types, so the server checks
    /// each against its use instead of guessing from text (NULL stays unspecified).
    public static func parse(statement: String = "", query: String, values: [PostgresValue]) -> PostgresFrontendMessage {
        .parse(statement: statement, query: query, parameterTypes: values.map(\.bindParameter.type))
    }

    /// Bind of `values` in the formats `PostgresValue.bindParameter` chooses, asking for every
    /// result column in `resultFormat` (binary by default: exact and cheaper to decode).
    public static func bind(portal: String = "", statement: String = "", values: [PostgresValue], resultFormat: PostgresFormat = .binary) -> PostgresFrontendMessage {
        let parameters = values.map(\.bindParameter)
        return .bind(portal: portal, statement: statement, parameterFormats: parameters.map(\.format), parameters: parameters.map(\.bytes), resultFormats: [resultFormat])
    }
}
