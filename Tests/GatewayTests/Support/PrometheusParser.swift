import ChildProcess
import Foundation

/// The Prometheus project's own Python client parses an exposition (`prometheus_client` from
/// PyPI; .ci/run installs it, and the script does when it is missing): a scrape it refuses, or reads differently, fails the test.
enum PrometheusParser {
    struct Family: Decodable, Sendable {
        /// As the parser names it: a counter's without `_total`.
        var name: String
        var type: String
        var help: String
        var samples: [Sample]
    }

    struct Sample: Decodable, Sendable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    static let script = """
        import json, subprocess, sys
        try:
            from prometheus_client.parser import text_string_to_metric_families
        except ImportError:
            # `swift test` sets up what it needs on a fresh machine, as .ci/run does.
            subprocess.run([sys.executable, "-m", "pip", "install", "-q", "prometheus_client"], check=False)
            try:
                from prometheus_client.parser import text_string_to_metric_families
            except ImportError:
                sys.exit("prometheus_client is missing and pip could not install it: pip install prometheus_client")
        text = open(sys.argv[1], encoding="utf-8").read()
        families = [
            {"name": f.name, "type": f.type, "help": f.documentation,
             "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]}
            for f in text_string_to_metric_families(text)
        ]
        print(json.dumps(families))
        """

    /// The families of `exposition`, keyed by the parser's name.
    static func parse(_ exposition: String) async throws -> [String: Family] {
        let directory = NSTemporaryDirectory() + "prometheus-parse-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try script.write(toFile: directory + "/parse.py", atomically: true, encoding: .utf8)
        try exposition.write(toFile: directory + "/metrics.txt", atomically: true, encoding: .utf8)
        let python = try ChildProcess(executable: "/usr/bin/env", arguments: ["python3", directory + "/parse.py", directory + "/metrics.txt"])
        guard await python.waitForExit(timeout: 60) == 0 else { throw ProcessFailure(description: "the parser failed: \(python.text)") }
        let output = python.text.split(separator: "\n").last.map(String.init) ?? ""
        let families = try JSONDecoder().decode([Family].self, from: Data(output.utf8))
        return Dictionary(families.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }
}
