internal import CCurl
import Foundation
import Synchronization

/// One transfer (HTTP request or SMTP send) on a `CurlLoop`: its easy handle plus the callbacks
/// that deliver headers, body bytes and the end. The callbacks run on the loop's thread only.
///
/// `@unchecked Sendable`: the mutable fields (`upload`, `status`, `headers`, `headersDone`) are
/// touched only on the loop's thread once the transfer is submitted, and before that only by the
/// creating task; `lifecycle` is a `Mutex`; the closures are set before submission and replaced
/// only by `finish`, after which libcurl calls nothing of the transfer any more.
final class CurlTransfer: @unchecked Sendable {
    enum Lifecycle { case created, submitted, cancelledEarly, finished }

    let easy: CurlEasy
    let displayURL: String
    let lifecycle = Mutex(Lifecycle.created)

    var upload: [UInt8] = []
    var uploadOffset = 0
    var status = 0
    var headers: [HTTPHeader] = []
    var headersDone = false
    /// The most body bytes (after decoding gzip, zstd, …) this transfer takes; nil for no limit.
    var maxBodyBytes: Int?
    private var bodyBytes = 0
    /// The write callback stopped the transfer because the body passed `maxBodyBytes`.
    private(set) var bodyLimitExceeded = false

    /// Called once when the final (non-1xx) response head is complete.
    var onHead: (Int, [HTTPHeader]) -> Void = { _, _ in }
    /// Called with each piece of body as it arrives; returning false stops the transfer
    /// (the error is then `refusal`'s).
    var onData: (UnsafeRawBufferPointer) -> Bool = { _ in true }
    /// Why `onData` stopped the transfer, for its error.
    var refusal: String?
    /// Called exactly once at the end: `nil` on success.
    var onFinish: (NetIOError?) -> Void = { _ in }

    init(easy: CurlEasy, displayURL: String) throws(NetIOError) {
        self.easy = easy
        self.displayURL = displayURL
        let me = UnsafeMutableRawPointer(Unmanaged.passUnretained(self).toOpaque())
        // The loop keeps the transfer alive while libcurl may call back, so unretained is safe.
        try easy.set(CURLOPT_WRITEDATA, pointer: me)
        try easy.set(CURLOPT_WRITEFUNCTION, callback: { buffer, size, count, user in
            guard let user else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
            let length = size * count
            transfer.completeHeadIfNeeded()
            // libcurl hands over decoded bytes, a piece at a time: counting them here bounds
            // an endless body and a compression bomb alike. Returning less than `length`
            // makes libcurl stop the transfer (CURLE_WRITE_ERROR).
            transfer.bodyBytes += length
            if let limit = transfer.maxBodyBytes, transfer.bodyBytes > limit {
                transfer.bodyLimitExceeded = true
                return 0
            }
            return transfer.onData(UnsafeRawBufferPointer(start: buffer, count: length)) ? length : 0
        })
        try easy.set(CURLOPT_HEADERDATA, pointer: me)
        try easy.set(CURLOPT_HEADERFUNCTION, callback: { buffer, size, count, user in
            guard let user, let buffer else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
            let length = size * count
            transfer.headerLine(UnsafeRawBufferPointer(start: buffer, count: length))
            return length
        })
    }

    /// Makes the transfer send `bytes` as its upload (SMTP message).
    func setUpload(_ bytes: [UInt8]) throws(NetIOError) {
        upload = bytes
        uploadOffset = 0
        try easy.set(CURLOPT_READDATA, pointer: UnsafeMutableRawPointer(Unmanaged.passUnretained(self).toOpaque()))
        try easy.set(CURLOPT_READFUNCTION, callback: { buffer, size, count, user in
            guard let user, let buffer else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(user).takeUnretainedValue()
            let room = size * count
            let left = transfer.upload.count - transfer.uploadOffset
            let n = min(room, left)
            guard n > 0 else { return 0 }
            transfer.upload.withUnsafeBytes { bytes in
                UnsafeMutableRawPointer(buffer).copyMemory(
                    from: bytes.baseAddress!.advanced(by: transfer.uploadOffset), byteCount: n)
            }
            transfer.uploadOffset += n
            return n
        })
    }

    private func headerLine(_ raw: UnsafeRawBufferPointer) {
        // "\r\n" is one Character in Swift, so trim by character set, not by suffix.
        let line = String(decoding: raw, as: UTF8.self).trimmingCharacters(in: .newlines)
        if line.hasPrefix("HTTP/") {
            // A new status line: 1xx responses and redirects start the header block again.
            headers.removeAll()
            let parts = line.split(separator: " ", maxSplits: 2)
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        } else if line.isEmpty {
            if status >= 200 { completeHeadIfNeeded() }
        } else if let colon = line.firstIndex(of: ":") {
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers.append(HTTPHeader(name: name, value: value))
        }
    }

    func completeHeadIfNeeded() {
        guard !headersDone else { return }
        headersDone = true
        if status == 0 { status = easy.info(CURLINFO_RESPONSE_CODE) }
        onHead(status, headers)
    }

    /// Ends the transfer; called once, by the loop (or by `CurlLoop.submit` when cancelled early).
    func finish(_ error: NetIOError?) {
        lifecycle.withLock { $0 = .finished }
        if error == nil { completeHeadIfNeeded() }
        onFinish(error)
        // The callbacks capture the transfer (`HTTPClient` reads its status in `onFinish`), so
        // holding them would keep the transfer, its easy handle and its buffers alive forever
        // (about 20 KB a request, some 70 MB an hour in the lab: scripts/soak). Dropping them
        // ends the cycle.
        onHead = { _, _ in }
        onData = { _ in true }
        onFinish = { _ in }
    }

    func transferError(_ code: CURLcode) -> NetIOError {
        if let limit = maxBodyBytes, bodyLimitExceeded || code == CURLE_FILESIZE_EXCEEDED {
            return NetIOError(
                kind: .responseTooLarge, code: Int(code.rawValue),
                message: "the response body is larger than the \(limit)-byte limit; transfer stopped", url: displayURL)
        }
        if let refusal {
            return NetIOError(kind: .responseTooLarge, code: Int(code.rawValue), message: refusal, url: displayURL)
        }
        return NetIOError(kind: .transfer, code: Int(code.rawValue), message: easy.message(for: code), url: displayURL)
    }

    var cancelledError: NetIOError {
        NetIOError(kind: .cancelled, message: "cancelled", url: displayURL)
    }
}
