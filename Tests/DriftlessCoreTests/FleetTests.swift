import DriftlessCore
import Testing

// The targets file, sharding and waves without a database (fleet.md; docs/fleet.md).

@Suite("Fleet: targets file, shards, waves")
struct FleetTests {
    static let example = """
        version: 1
        defaults:
          repo: https://github.com/acme/db.git
          ref: main
          path: blueprints
          interval: 60s
        targets:
          - name: prod-eu
            database_url_env: PROD_EU_DATABASE_URL
            wave: 2
            allow: []
            drift_mode: correct
            online: true
            suspend: false
          - name: staging
            database_url_file: /secrets/staging/url
            blueprints: /srv/blueprints
            path: blueprints
            wave: 1
        """

    @Test func theSpecsExampleReadsWithDefaultsAndOverrides() throws {
        let (file, diagnostics) = TargetsFile.decode(file: "targets.yaml", text: Self.example)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let targets = try #require(file?.targets)
        #expect(targets.map(\.name) == ["prod-eu", "staging"])
        #expect(targets[0].databaseURL == .environment("PROD_EU_DATABASE_URL"))
        #expect(targets[0].repo == "https://github.com/acme/db.git" && targets[0].ref == "main" && targets[0].path == "blueprints")
        #expect(targets[0].wave == 2 && targets[0].online && !targets[0].suspend && targets[0].interval.milliseconds == 60_000)
        #expect(targets[1].databaseURL == .file("/secrets/staging/url"))
        #expect(targets[1].blueprints == "/srv/blueprints" && targets[1].repo == nil && targets[1].wave == 1 && !targets[1].online)
    }

    @Test func everyErrorIsReportedAtOnceWithItsPlace() {
        let text = """
            version: 1
            targets:
              - name: Prod_EU
                database_url: postgres://postgres:hunter2@db/postgres
                blueprints: /srv/a
              - name: staging
                database_url_env: A
                database_url_file: /b
                repo: https://example.com/r.git
                blueprints: /srv/b
                wave: 0
                interval: soon
                allow: [deletes_data, drop_everything]
                drift_mode: fix
                onlien: true
              - name: staging
                database_url_env: C
                blueprints: /srv/c
            """
        let (file, diagnostics) = TargetsFile.decode(file: "targets.yaml", text: text)
        #expect(file == nil)
        let codes = diagnostics.map(\.code)
        for code in ["secret_in_targets_file", "invalid_target_name", "missing_database_url", "ambiguous_database_url", "ambiguous_source",
                     "bad_wave", "bad_duration", "unknown_hazard", "bad_drift_mode", "unknown_field", "duplicate_target"] {
            #expect(codes.contains(code), "\(code) missing from \(diagnostics)")
        }
        // Located, and the secret itself never repeated.
        let secret = diagnostics.first { $0.code == "secret_in_targets_file" }
        #expect(secret?.line == 4 && secret?.path == "$.targets[0].database_url")
        #expect(!diagnostics.contains { $0.message.contains("hunter2") })
        #expect(diagnostics.first { $0.code == "unknown_field" }?.message.contains("did you mean 'online'") == true)
        #expect(diagnostics.first { $0.code == "duplicate_target" }?.path == "$.targets[2].name")
        #expect(diagnostics.allSatisfy { $0.file == "targets.yaml" && $0.line != nil })
    }

    @Test func aMissingVersionOrTargetsListIsAnError() {
        #expect(TargetsFile.decode(file: "t.yaml", text: "targets: []").diagnostics.map(\.code) == ["missing_field"])
        #expect(TargetsFile.decode(file: "t.yaml", text: "version: 1").diagnostics.map(\.code) == ["missing_field"])
        #expect(TargetsFile.decode(file: "t.yaml", text: "version: 1\ntargets: [").diagnostics.count == 1)
        #expect(TargetsFile.decode(file: "t.yaml", text: "version: 1\ntargets: []").file?.targets == [])
    }

    @Test func shardsAreStableAndEven() {
        // FNV-1a 64 of the name: fixed values, whatever the process.
        #expect(Sharding.shard(of: "prod-eu", shards: 1) == 0)
        let first = (0..<1000).map { Sharding.shard(of: "target-\($0)", shards: 2) }
        #expect(first == (0..<1000).map { Sharding.shard(of: "target-\($0)", shards: 2) })
        let zeros = first.filter { $0 == 0 }.count
        #expect(abs(zeros - 500) <= 50, "\(zeros) of 1000 on shard 0")
        var counts = [0, 0, 0]
        for index in 0..<900 { counts[Sharding.shard(of: "customer-\(index)", shards: 3)] += 1 }
        #expect(counts.allSatisfy { abs($0 - 300) <= 30 }, "\(counts)")
        #expect(Sharding.ordinal(hostname: "driftless-2") == 2)
        #expect(Sharding.ordinal(hostname: "driftless-fleet-10") == 10)
        #expect(Sharding.ordinal(hostname: "driftless") == nil)
        #expect(Sharding.ordinal(hostname: "driftless-x") == nil)
        #expect(Sharding.isValidName("prod-eu") && Sharding.isValidName("0a") && !Sharding.isValidName("-a") && !Sharding.isValidName("A"))
        #expect(!Sharding.isValidName(String(repeating: "a", count: 64)) && !Sharding.isValidName(""))
    }

    @Test func wavesOpenInOrderAndAFailureHaltsTheRest() {
        let wave1 = [Rollout.Progress(target: "canary", wave: 1, status: .ok)]
        #expect(Rollout.gate(wave: 1, others: wave1) == .open)
        #expect(Rollout.gate(wave: 2, others: wave1) == .open)
        #expect(Rollout.gate(wave: 2, others: [Rollout.Progress(target: "canary", wave: 1, status: nil)]) == .waiting(["canary"]))
        #expect(Rollout.gate(wave: 3, others: wave1 + [Rollout.Progress(target: "eu", wave: 2, status: .noop),
                                                       Rollout.Progress(target: "us", wave: 2, status: .retry)]) == .waiting(["us"]))
        let failed = [Rollout.Progress(target: "canary", wave: 1, status: .failed), Rollout.Progress(target: "eu", wave: 2, status: nil)]
        #expect(Rollout.gate(wave: 2, others: failed) == .halted(target: "canary", status: .failed))
        #expect(Rollout.gate(wave: 3, others: failed) == .halted(target: "canary", status: .failed))
        // A suspended target neither holds back nor halts.
        var suspended = failed
        suspended[0].suspended = true
        #expect(Rollout.gate(wave: 2, others: suspended) == .open)
        #expect(Rollout.gate(wave: 3, others: suspended) == .waiting(["eu"]))
    }
}
