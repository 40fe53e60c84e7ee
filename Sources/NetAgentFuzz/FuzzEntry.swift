import Foundation
import FuzzHarnesses

// libFuzzer's entry: one binary for every harness, chosen by NETAGENT_FUZZ_HARNESS
// (scripts/fuzz sets it). Built only with NETAGENT_FUZZ=1 and `--sanitize=fuzzer`.

let harness: FuzzHarness = {
    let name = ProcessInfo.processInfo.environment["NETAGENT_FUZZ_HARNESS"] ?? ""
    guard let harness = FuzzHarness(rawValue: name) else {
        let known = FuzzHarness.allCases.map(\.rawValue).joined(separator: ", ")
        fatalError("NETAGENT_FUZZ_HARNESS is '\(name)'; set it to one of \(known)")
    }
    return harness
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    harness.run(data)
    return 0
}
