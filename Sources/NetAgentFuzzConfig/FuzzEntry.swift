import Foundation
import FuzzConfigHarness

// libFuzzer's entry for the configuration harness. Built only with NETAGENT_FUZZ=1 and
// `--sanitize=fuzzer` (scripts/fuzz config).

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    ConfigFuzz.run(start.map { Data(bytes: $0, count: count) } ?? Data())
    return 0
}
