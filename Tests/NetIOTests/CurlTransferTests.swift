import Foundation
@testable import NetIO
import Testing

/// A transfer's callbacks capture the transfer (`HTTPClient.send` reads its status when it
/// finishes), so a finished transfer must let them go, or every request leaks its transfer, its
/// libcurl easy handle and its buffers: `scripts/soak` measured about 70 MB an hour.
struct CurlTransferTests {
    @Test func aFinishedTransferIsFreedWithItsEasyHandle() throws {
        weak var transfer: CurlTransfer?
        weak var easy: CurlEasy?
        var status: Int?
        do {
            // Never submitted: nothing is sent, `finish` is called as the loop would call it.
            let made = try HTTPClient().makeTransfer(HTTPRequest(url: "http://127.0.0.1:9/never-sent"))
            made.onFinish = { _ in status = made.status }
            transfer = made
            easy = made.easy
            made.finish(nil)
        }
        #expect(status == 0)
        #expect(transfer == nil, "the finished transfer is still alive: a callback still holds it")
        #expect(easy == nil, "the finished transfer's easy handle is still alive")
    }
}
