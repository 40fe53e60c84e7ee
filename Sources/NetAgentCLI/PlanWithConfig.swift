import ArgumentParser
import Foundation
import Kube
import Logging
import NetAgent

/// `netagent plan --config FILE`: the desired records from the configured sources (manifests
/// and the cluster's API), then, per provider instance, what a reconcile would change — read
/// only: providers are read, nothing is written.
struct PlanWithConfig {
    let configPath: String
    let extraManifests: [String]
    let manifestOptions: ManifestOptions

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
            return (config, try config.resolveSecrets())
        } catch {
            FileHandle.standardError.write(Data("\(path): \(error)\n".utf8))
            throw ExitCode(2)
        }
    }

    /// Plans every target; each is planned, and fails, on its own.
    static func plans(config: NetAgentConfig, secrets: ResolvedSecrets, objects: SourceObjects) async -> [TargetPlan] {
        let state = FileManager.default.fileExists(atPath: config.state.path) ? try? StateStore(path: config.state.path) : nil
        var plans: [TargetPlan] = []
        let ledgers = config.sharedLedgers(environment: ProcessInfo.processInfo.environment)
        for target in DNSTarget.all(config: config, secrets: secrets, state: state, ledgers: ledgers) {
            do {
                let desired = try objects.desired(select: target.config.select, annotationPrefixes: config.sources.annotationPrefixes)
                plans.append(await TargetPlan.make(target, desired: desired.endpoints))
            } catch {
                plans.append(TargetPlan(provider: target.config.name, instance: target.instance, desiredCount: 0,
                                        outcome: .failure(PlanFailure(message: "\(error)"))))
            }
            await target.close()
        }
        return plans
    }
}
