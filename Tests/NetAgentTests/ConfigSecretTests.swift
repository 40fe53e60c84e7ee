@testable import Config
import Foundation
@testable import NetAgent
import Testing

@Suite("Secrets")
struct ConfigSecretTests {
    private func makeConfig(tokenFile: String) -> NetAgentConfig? {
        ConfigFixtures.load(ConfigFixtures.minimal + """
            providers:
              - { name: cf, type: cloudflare, zones: [example.com], apiTokenFile: \(tokenFile) }
              - { name: ph, type: pihole, urls: [http://a, http://b], passwordEnv: PH_PASSWORD }
              - { name: open, type: pihole, url: http://c }
            alerting:
              smtp: { url: "smtp://relay:25", from: a@example.com, to: [b@example.com], username: u, passwordEnv: SMTP_PW }
            """)
    }

    @Test("files and variables are read only by resolveSecrets; trailing newlines dropped")
    func resolves() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("netagent-secrets-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let tokenFile = folder.appendingPathComponent("token").path
        let config = try #require(makeConfig(tokenFile: tokenFile))
        // Loading succeeded before the file exists: validation reads no secret.
        try "cf-token-123\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let secrets = try config.resolveSecrets(environment: ["PH_PASSWORD": "ph-pass", "SMTP_PW": "smtp-pass"])
        #expect(secrets.cloudflareTokens["cf"]?.value == "cf-token-123")
        #expect(secrets.piholePasswords["ph"]?.value == "ph-pass")
        #expect(secrets.piholePasswords["open"] == nil)
        #expect(secrets.smtpPassword?.value == "smtp-pass")
        #expect(secrets.cloudflareTokens["cf"]?.description == "<redacted>")
        #expect(!"\(secrets)".contains("cf-token-123"))
    }

    @Test("a missing file or variable names the key and the source, never a secret")
    func failures() throws {
        let config = try #require(makeConfig(tokenFile: "/nonexistent/netagent/token"))
        #expect {
            _ = try config.resolveSecrets(environment: ["SMTP_PW": "smtp-pass"])
        } throws: { error in
            guard let error = error as? SecretError else { return false }
            let text = error.description
            return error.issues.map(\.path) == ["providers[0].apiTokenFile", "providers[1].passwordEnv"]
                && text.contains("file /nonexistent/netagent/token: no such file")
                && text.contains("environment variable PH_PASSWORD: the variable is not set")
                && !text.contains("smtp-pass")
        }
    }

    @Test("an empty secret is refused")
    func empty() throws {
        let config = try #require(makeConfig(tokenFile: "/dev/null"))
        #expect {
            _ = try config.resolveSecrets(environment: ["PH_PASSWORD": "x", "SMTP_PW": "y"])
        } throws: { error in
            (error as? SecretError)?.issues.map(\.reason) == ["the secret is empty"]
        }
    }

    @Test("relative secret files are taken from the configuration's folder")
    func relativePath() throws {
        let config = try #require(makeConfig(tokenFile: "secrets/token"))
        guard case .cloudflare(let settings) = config.providers[0].kind else {
            Issue.record("providers[0] is not cloudflare")
            return
        }
        #expect(settings.apiToken == .file("/etc/netagent/secrets/token"))
    }
}
