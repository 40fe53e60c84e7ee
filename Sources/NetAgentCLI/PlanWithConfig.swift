import ArgumentParser
import Config
import Foundation
import NetAgent

/// Loading the configuration for the commands that use it whole (`run`, `plan --config`,
/// `check`); the read-only plans themselves are `TargetPlan.all` in NetAgent.
enum PlanWithConfig {
    /// Loads the configuration; exits 2 with every problem when it is invalid.
    static func load(_ path: String) throws -> (NetAgentConfig, ResolvedSecrets) {
        let config: NetAgentConfig
        do {
            config = try NetAgentConfig.load(file: path)
        } catch {
            FileHandle.standardError.write(Data(error.issues.map { $0.description + "\n" }.joined().utf8))
            throw ExitCode(2)
        }
        do {
            let secrets = try config.resolveSecrets()
            for warning in secrets.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
            return (config, secrets)
        } catch {
            FileHandle.standardError.write(Data("\(path): \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}
