/// Waits until `condition` holds, asking again every 20 ms; throws naming `what` after
/// `timeout`. The condition is asked once more after the deadline, since on a busy machine
/// this task may wake late.
public func eventually(
    _ what: String, timeout: Duration = .seconds(20), _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return }
        if ContinuousClock.now >= deadline { break }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw TestSupportError("timed out waiting for: \(what)")
}
