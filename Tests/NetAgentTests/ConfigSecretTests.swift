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

    @Test("a secret file written with CRLF line ends is read without them")
    func crlf() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = FileManager.default.createFile(atPath: folder + "/token", contents: Data("cf-token-123\r\n".utf8),
                                           attributes: [.posixPermissions: 0o600])
        let config = try #require(makeConfig(tokenFile: folder + "/token"))
        // Before: "\r\n" is one Character, so the trailing line end was kept and refused.
        let secrets = try config.resolveSecrets(environment: ["PH_PASSWORD": "ph-pass\r\n", "SMTP_PW": "y"])
        #expect(secrets.cloudflareTokens["cf"]?.value == "cf-token-123")
        #expect(secrets.piholePasswords["ph"]?.value == "ph-pass")
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
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = FileManager.default.createFile(atPath: folder + "/empty", contents: Data())
        let config = try #require(makeConfig(tokenFile: folder + "/empty"))
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

    private static func folder() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("netagent-secrets-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    /// The one issue `resolveSecrets` reports for a token file at `path`.
    private func reason(tokenFile path: String) throws -> String? {
        let config = try #require(makeConfig(tokenFile: path))
        do {
            _ = try config.resolveSecrets(environment: ["PH_PASSWORD": "x", "SMTP_PW": "y"])
            return nil
        } catch {
            return error.issues.first?.reason
        }
    }

    @Test("a device, a FIFO or a folder is refused at once, unread (issue 20, defect 10)")
    func notARegularFile() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let fifo = folder + "/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        // Before: /dev/zero grew the process to 8.9 GB; a FIFO without a writer blocked the start.
        for path in ["/dev/zero", "/dev/null", fifo, folder] {
            #expect(try reason(tokenFile: path)?.contains("not a regular file") == true, "\(path)")
        }
    }

    @Test("a secret file above the size limit is refused unread")
    func tooLarge() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let big = folder + "/big"
        _ = FileManager.default.createFile(atPath: big, contents: Data(repeating: 0x61, count: SecretLimits.maxFileBytes + 1),
                                       attributes: [.posixPermissions: 0o600])
        #expect(try reason(tokenFile: big)?.contains("more than \(SecretLimits.maxFileBytes) bytes") == true)
    }

    @Test("a secret of more than one line is refused (issue 20, defect 9)", arguments: [
        "tok\r\nX-Evil: 1\n", "tok\nmore\n", "tok\u{0}x", "tok\rX-Evil: 1",
    ])
    func multiLine(content: String) throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = FileManager.default.createFile(atPath: folder + "/token", contents: Data(content.utf8), attributes: [.posixPermissions: 0o600])
        let reason = try reason(tokenFile: folder + "/token")
        #expect(reason?.contains("must be one line") == true)
        #expect(reason?.contains("tok") == false)
        // The same holds for a variable.
        let config = try #require(makeConfig(tokenFile: folder + "/token"))
        #expect(throws: SecretError.self) { _ = try config.resolveSecrets(environment: ["PH_PASSWORD": content, "SMTP_PW": "y"]) }
    }

    @Test("a secret file readable by group or others is read, with a warning naming it")
    func looseModeWarns() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let token = folder + "/token"
        _ = FileManager.default.createFile(atPath: token, contents: Data("tok\n".utf8), attributes: [.posixPermissions: 0o644])
        let config = try #require(makeConfig(tokenFile: token))
        let loose = try config.resolveSecrets(environment: ["PH_PASSWORD": "x", "SMTP_PW": "y"])
        #expect(loose.cloudflareTokens["cf"]?.value == "tok")
        #expect(loose.warnings.count == 1)
        #expect(loose.warnings.first?.contains("providers[0].apiTokenFile") == true)
        #expect(loose.warnings.first?.contains("mode 644") == true)
        #expect(chmod(token, 0o600) == 0)
        #expect(try config.resolveSecrets(environment: ["PH_PASSWORD": "x", "SMTP_PW": "y"]).warnings.isEmpty)
    }
}
