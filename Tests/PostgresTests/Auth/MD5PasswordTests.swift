import HTTP
import Testing

@testable import Postgres

/// The legacy md5 method's answer.
@Suite struct MD5PasswordTests {
    @Test func theInnerHashIsWhatPgAuthidStores() {
        // postgres/postgres is stored as md53175bce1d3201d16594cebf9d7eb3f9d in pg_authid.
        #expect(Digest.hex(Digest.md5(Array("postgrespostgres".utf8))) == "3175bce1d3201d16594cebf9d7eb3f9d")
    }

    @Test func theResponseHashesTheStoredHashWithTheSalt() {
        #expect(MD5Password.response(user: "postgres", password: "postgres", salt: [1, 2, 3, 4]) == "md568be9ed08db75f318087ab337aaea044")
        #expect(MD5Password.response(user: "postgres", password: "postgres", salt: [1, 2, 3, 5]) != "md568be9ed08db75f318087ab337aaea044")
    }
}
