import Foundation
import Testing
@testable import Gateway

/// The gateway's database holds webhook signing secrets: its directory (when the gateway
/// creates it) is 0700, and the file, its WAL, shared-memory index and lock file are 0600.
@Suite struct DatabaseFilePermissionTests {
    @Test(.readsSQLiteTables) func theDatabaseItsCompanionsAndItsDirectoryArePrivate() async throws {
        try await withGateway(configure: { $0.allowPrivateWebhooks = true }) { gateway in
            let created = try await gateway.call(.post, "/v1/webhook-endpoints", json: #"{"url":"http://127.0.0.1:9/hooks"}"#)
            #expect(created.status == 201)
            let path = gateway.services.configuration.databasePath
            func mode(_ path: String) throws -> Int? {
                try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            }
            #expect(try mode(gateway.directory) == 0o700)
            for file in [path, path + "-wal", path + "-shm", path + ".lock"] {
                #expect(try mode(file) == 0o600, "\(file)")
            }
        }
    }
}
