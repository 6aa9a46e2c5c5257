import Store

/// SQL over `merchants`: the gateway's memory of which operation registers which externalAccountId.
enum MerchantRecords {
    /// The live registration of `externalAccountId`: its operation, unless that one failed
    /// (a failed register may be tried again, so it does not count).
    static func liveRegistration(externalAccountId: String, in db: SQLiteConnection) throws -> String? {
        try db.query(
            """
            SELECT m.operation_id FROM merchants m JOIN operations o ON o.id = m.operation_id
            WHERE m.external_account_id = ? AND o.state != 'failed'
            """, [externalAccountId]
        ).first?.get(0, as: String.self)
    }

    /// Binds `externalAccountId` to a new registering operation (replacing a failed one).
    static func bind(externalAccountId: String, operationId: String, name: String, now: Int64, in db: SQLiteConnection) throws {
        try db.run(
            """
            INSERT INTO merchants (external_account_id, operation_id, name, created_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (external_account_id) DO UPDATE SET operation_id = excluded.operation_id, name = excluded.name,
                account_id = NULL, created_at = excluded.created_at
            """, [externalAccountId, operationId, name, now])
    }

    static func setAccount(_ accountId: String, externalAccountId: String, in db: SQLiteConnection) throws {
        try db.run("UPDATE merchants SET account_id = ? WHERE external_account_id = ?", [accountId, externalAccountId])
    }
}
