import Foundation
import NetIO

/// A secret read from a file or the environment. Its description never shows the value.
public struct Secret: Hashable, Sendable, CustomStringConvertible {
    /// The secret itself; hand it to the client that needs it, never to a log.
    public let value: String
    /// Registers `value` with the redactor, so no output shows it.
    public init(_ value: String) {
        self.value = value
        Redaction.register(secret: value)
    }
    public var description: String { "<redacted>" }
}

/// The secrets a configuration names, read by ``NetAgentConfig/resolveSecrets(environment:)``.
public struct ResolvedSecrets: Sendable {
    /// Cloudflare API tokens by provider name.
    public var cloudflareTokens: [String: Secret] = [:]
    /// Pi-hole passwords by provider name (absent for a Pi-hole without a password).
    public var piholePasswords: [String: Secret] = [:]
    /// The SMTP password, if the relay needs one.
    public var smtpPassword: Secret?
    /// The status server's bearer token (`server.authTokenFile`), if one is asked.
    public var statusToken: Secret?
    /// Secret files that group or others may read: printed as warnings at start.
    public var warnings: [String] = []
}

/// How secrets are read: bounds and checks applied to every secret file and variable.
public enum SecretLimits {
    /// The largest secret file read; a larger one (or `/dev/zero`) is refused unread. API
    /// tokens and passwords are well under 1 KiB.
    public static let maxFileBytes = 16 << 10
}

/// A secret that could not be read: the key that names it, where it should come from, and why.
/// It never contains the secret.
public struct SecretIssue: Error, Hashable, Sendable, CustomStringConvertible {
    /// Key path such as `providers[0].apiTokenFile`.
    public let path: String
    /// The file or environment variable.
    public let source: SecretSource
    public let reason: String
    public var description: String { "\(path): cannot read secret from \(source): \(reason)" }
}

/// Every secret that could not be read.
public struct SecretError: Error, Sendable, CustomStringConvertible {
    public let issues: [SecretIssue]
    public var description: String { issues.map(\.description).joined(separator: "\n") }
}

extension NetAgentConfig {
    /// Reads every secret the configuration names: files (trailing newlines dropped) and
    /// environment variables from `environment` (nil: the process's). Empty secrets are refused.
    /// - Throws: ``SecretError`` naming each key and file or variable that failed.
    public func resolveSecrets(
        environment: [String: String]? = nil
    ) throws(SecretError) -> ResolvedSecrets {
        let environment = environment ?? ProcessInfo.processInfo.environment
        var secrets = ResolvedSecrets()
        var issues: [SecretIssue] = []
        func read(_ source: SecretSource, _ path: String) -> Secret? {
            do {
                let (secret, looseMode) = try Self.read(source, environment: environment)
                if let looseMode, case .file(let file) = source {
                    secrets.warnings.append(
                        "\(path): the secret file \(file) may be read by group or others (mode \(String(looseMode, radix: 8))); "
                            + "make it readable by netagent's user alone (chmod 600, or defaultMode: 0400 on a Kubernetes Secret volume)")
                }
                return secret
            } catch {
                issues.append(SecretIssue(path: path, source: source, reason: error.message))
                return nil
            }
        }
        for (index, provider) in providers.enumerated() {
            let base = "providers[\(index)]"
            switch provider.kind {
            case .cloudflare(let settings):
                secrets.cloudflareTokens[provider.name] = read(settings.apiToken, base + "." + key("apiToken", settings.apiToken))
            case .pihole(let settings):
                if let source = settings.password {
                    secrets.piholePasswords[provider.name] = read(source, base + "." + key("password", source))
                }
            }
        }
        if let source = alerting?.smtp.password {
            secrets.smtpPassword = read(source, "alerting.smtp." + key("password", source))
        }
        if let source = server.authToken {
            secrets.statusToken = read(source, "server." + key("authToken", source))
        }
        guard issues.isEmpty else { throw SecretError(issues: issues) }
        return secrets
    }

    private func key(_ base: String, _ source: SecretSource) -> String {
        switch source {
        case .file: base + "File"
        case .env: base + "Env"
        }
    }

    /// The secret and, for a file that group or others may read, its permission bits.
    private static func read(_ source: SecretSource, environment: [String: String]) throws(ConfigValueError) -> (Secret, Int?) {
        let raw: String
        var looseMode: Int?
        switch source {
        case .env(let name):
            guard let value = environment[name] else { throw ConfigValueError("the variable is not set") }
            raw = value
        case .file(let path):
            let data: Data, mode: Int
            do {
                (data, mode) = try BoundedFile.read(path, maxBytes: SecretLimits.maxFileBytes)
            } catch {
                throw ConfigValueError(error.description)
            }
            guard let text = String(data: data, encoding: .utf8) else { throw ConfigValueError("the file is not UTF-8 text") }
            raw = text
            if mode & 0o077 != 0 { looseMode = mode & 0o777 }
        }
        // By scalar: "\r\n" is one Character, equal to neither "\n" nor "\r".
        var value = raw.unicodeScalars
        while let last = value.last, last == "\n" || last == "\r" { value.removeLast() }
        guard !value.isEmpty else { throw ConfigValueError("the secret is empty") }
        // A secret goes into a header or an SMTP command: a line break there would start
        // another header or command.
        guard !value.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7f }) else {
            throw ConfigValueError("the secret must be one line without control characters (it holds a line break, NUL or another control character)")
        }
        return (Secret(String(value)), looseMode)
    }
}
