internal import CCurl
import Foundation
import Synchronization

/// The thread that drives every transfer of libcurl's multi interface: it blocks in
/// `curl_multi_poll` and is woken by `curl_multi_wakeup` when a transfer is added or cancelled,
/// never by a polling timer. One multi handle means one connection cache, so connections are reused.
///
/// `@unchecked Sendable`: `multi` and `active` are touched only on the loop's own thread;
/// other threads reach it only through the `inbox` mutex and `curl_multi_wakeup`, which libcurl
/// documents as safe to call from any thread.
public final class CurlLoop: @unchecked Sendable {
    /// The loop most callers share; it lives as long as the process.
    public static let shared = CurlLoop()

    private struct Inbox {
        var adds: [CurlTransfer] = []
        var cancels: [CurlTransfer] = []
        var stopping = false
    }

    private let multi: UnsafeMutableRawPointer
    private let inbox = Mutex(Inbox())
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]

    public init() {
        CurlGlobal.ensureInitialised()
        // curl_multi_init fails only when out of memory, where nothing else could go on either.
        guard let multi = curl_multi_init() else { preconditionFailure("curl_multi_init failed: out of memory") }
        self.multi = multi
        let thread = Thread { [self] in self.run() }
        thread.name = "netagent-curl"
        thread.start()
    }

    deinit {
        curl_multi_cleanup(multi)
    }

    /// Stops the loop: transfers still running end with a cancellation error.
    public func shutdown() {
        inbox.withLock { $0.stopping = true }
        curl_multi_wakeup(multi)
    }

    func submit(_ transfer: CurlTransfer) {
        let proceed = transfer.lifecycle.withLock { state -> Bool in
            guard state == .created else { return false }
            state = .submitted
            return true
        }
        guard proceed else {
            transfer.finish(transfer.cancelledError)
            return
        }
        inbox.withLock { $0.adds.append(transfer) }
        curl_multi_wakeup(multi)
    }

    /// Runs `transfer` for an awaiting task: `wire` connects the transfer's callbacks to the
    /// continuation, then the transfer is submitted; cancelling the task removes the transfer.
    func perform<T: Sendable>(
        _ transfer: CurlTransfer, wire: (CheckedContinuation<T, any Error>) -> Void
    ) async throws(NetIOError) -> T {
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    wire(continuation)
                    submit(transfer)
                }
            } onCancel: {
                cancel(transfer)
            }
        } catch let error as NetIOError {
            throw error
        } catch {
            throw NetIOError(kind: .transfer, message: "\(error)", url: transfer.displayURL)
        }
    }

    func cancel(_ transfer: CurlTransfer) {
        let onLoop = transfer.lifecycle.withLock { state -> Bool in
            switch state {
            case .created:
                state = .cancelledEarly
                return false
            case .submitted:
                return true
            case .cancelledEarly, .finished:
                return false
            }
        }
        guard onLoop else { return }
        inbox.withLock { $0.cancels.append(transfer) }
        curl_multi_wakeup(multi)
    }

    private func run() {
        var running: Int32 = 0
        while true {
            let work = inbox.withLock { box -> Inbox in
                defer { box.adds.removeAll(); box.cancels.removeAll() }
                return box
            }
            for transfer in work.adds {
                let code = curl_multi_add_handle(multi, transfer.easy.handle)
                if code == CURLM_OK {
                    active[transfer.easy.handle] = transfer
                } else {
                    transfer.finish(NetIOError(
                        kind: .setup, code: Int(code.rawValue),
                        message: String(cString: curl_multi_strerror(code)), url: transfer.displayURL))
                }
            }
            for transfer in work.cancels { end(transfer.easy.handle, transfer.cancelledError) }
            if work.stopping {
                for (handle, transfer) in active { end(handle, transfer.cancelledError) }
                return
            }
            curl_multi_perform(multi, &running)
            collectFinished()
            // Blocks until a socket is ready, libcurl's own next timeout, or a wakeup.
            curl_multi_poll(multi, nil, 0, 60_000, nil)
        }
    }

    private func collectFinished() {
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle else { continue }
            let code = message.pointee.data.result
            guard let transfer = active[handle] else { continue }
            end(handle, code == CURLE_OK ? nil : transfer.transferError(code))
        }
    }

    private func end(_ handle: UnsafeMutableRawPointer, _ error: NetIOError?) {
        guard let transfer = active.removeValue(forKey: handle) else { return }
        curl_multi_remove_handle(multi, handle)
        transfer.finish(error)
    }
}
