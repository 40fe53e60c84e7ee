import DNSCore
import Foundation

/// `netagent-bench planner [--records N] [--changed-percent P] [--repeat K]`: plans N desired
/// records against N current ones of which P% differ (half of them changed targets, half
/// renamed: a delete plus a create) and prints one line: `planner records=N creates=… updates=…
/// deletes=… plan_ms=…`, the median of K (`--repeat K`, default 1) plans over the same inputs.
enum PlannerBench {
    static func run(_ arguments: [String]) throws {
        try runPlanner(try Options(["netagent-bench", "planner"] + arguments))
    }
}

struct Options {
    var mode = ""
    var records = 10_000
    var changedPercent = 10
    var repeats = 1

    init(_ arguments: [String]) throws(BenchError) {
        var rest = arguments.dropFirst()
        guard let mode = rest.popFirst() else { throw BenchError(message: "usage: netagent-bench planner [--records N] [--changed-percent P]") }
        self.mode = mode
        while let flag = rest.popFirst() {
            guard let text = rest.popFirst(), let value = Int(text), value >= 0 else {
                throw BenchError(message: "\(flag) needs a non-negative number")
            }
            switch flag {
            case "--records": records = value
            case "--changed-percent": changedPercent = min(value, 100)
            case "--repeat": repeats = max(value, 1)
            default: throw BenchError(message: "unknown flag \(flag)")
            }
        }
    }
}

/// Builds the two record sets. Names are valid by construction; a refusal is a bug here.
func plannerInputs(records: Int, changedPercent: Int) throws -> (desired: [Endpoint], current: [Endpoint]) {
    let changed = records * changedPercent / 100
    let renamedFrom = records - changed / 2
    var desired: [Endpoint] = [], current: [Endpoint] = []
    desired.reserveCapacity(records)
    current.reserveCapacity(records)
    for i in 0..<records {
        let name = try DNSName("host\(i).zone\(i % 97).example.com")
        let target = "10.\(i >> 16 & 255).\(i >> 8 & 255).\(i & 255)"
        let resource = "httproute/ns\(i % 13)/route\(i)"
        current.append(Endpoint(name: name, type: .a, targets: [target], ttl: 300,
                                labels: EndpointLabels(owner: "bench", resource: resource)))
        if i >= renamedFrom {
            desired.append(Endpoint(name: try DNSName("new\(i).zone\(i % 97).example.com"), type: .a, targets: [target],
                                    ttl: 300, labels: EndpointLabels(resource: resource)))
        } else if i >= renamedFrom - (changed - changed / 2) {
            desired.append(Endpoint(name: name, type: .a, targets: ["172.16.\(i >> 8 & 255).\(i & 255)"], ttl: 300,
                                    labels: EndpointLabels(resource: resource)))
        } else {
            desired.append(Endpoint(name: name, type: .a, targets: [target], ttl: 300, labels: EndpointLabels(resource: resource)))
        }
    }
    return (desired, current)
}

func runPlanner(_ options: Options) throws {
    let inputs = try plannerInputs(records: options.records, changedPercent: options.changedPercent)
    let clock = ContinuousClock()
    // Plans are kept until the end so that freeing one is never inside a measurement.
    var plans: [Plan] = []
    plans.reserveCapacity(2 * options.repeats)
    func timed() -> Double {
        var plan = Plan()
        let elapsed = clock.measure {
            plan = Planner.plan(desired: inputs.desired, current: inputs.current, ownerID: "bench")
        }
        plans.append(plan)
        return elapsed.milliseconds
    }
    var times: [Double] = []
    for _ in 0..<options.repeats { times.append(timed()) }
    let ms = times.sorted()[times.count / 2]
    let plan = plans[0]
    let c = plan.changes
    print("planner records=\(options.records) creates=\(c.creates.count) updates=\(c.updates.count) deletes=\(c.deletes.count) guard=\(plan.guardReason == nil ? "off" : "tripped") plan_ms=\(ms)")
}

