internal import CCurl
import Foundation

/// One libcurl easy handle and the C memory it points at (header lists, error buffer).
/// Freed in `deinit`. Options are set before the handle is handed to the loop; after that it is
/// touched only on the loop's thread.
final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    private var lists: [UnsafeMutablePointer<curl_slist>] = []
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    init() throws(NetIOError) {
        CurlGlobal.ensureInitialised()
        guard let handle = curl_easy_init() else {
            throw NetIOError(kind: .setup, message: "curl_easy_init failed (out of memory?)")
        }
        self.handle = handle
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        try set(CURLOPT_ERRORBUFFER, pointer: UnsafeMutableRawPointer(errorBuffer))
        try set(CURLOPT_NOSIGNAL, 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        for list in lists { curl_slist_free_all(list) }
        errorBuffer.deallocate()
    }

    func set(_ option: CURLoption, _ value: Int) throws(NetIOError) {
        try check(ccurl_setopt_long(handle, option, value), option)
    }

    func set(_ option: CURLoption, _ value: String) throws(NetIOError) {
        // libcurl copies string options (since 7.17), so the temporary C string may go.
        try check(value.withCString { ccurl_setopt_str(handle, option, $0) }, option)
    }

    func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) throws(NetIOError) {
        try check(ccurl_setopt_ptr(handle, option, pointer), option)
    }

    func set(_ option: CURLoption, callback: ccurl_io_callback) throws(NetIOError) {
        try check(ccurl_setopt_io(handle, option, callback), option)
    }

    /// Sets an option that takes a bytes blob (PEM text); libcurl copies it.
    func set(_ option: CURLoption, blob: String) throws(NetIOError) {
        var bytes = Array(blob.utf8)
        let code = bytes.withUnsafeMutableBytes { ccurl_setopt_blob(handle, option, $0.baseAddress, $0.count) }
        try check(code, option)
    }

    /// Sets a list option (headers, recipients, connect-to); the list lives as long as the handle.
    func set(_ option: CURLoption, list: [String]) throws(NetIOError) {
        guard !list.isEmpty else { return }
        var head: UnsafeMutablePointer<curl_slist>?
        for item in list {
            guard let next = curl_slist_append(head, item) else {
                if let head { curl_slist_free_all(head) }
                throw NetIOError(kind: .setup, message: "curl_slist_append failed (out of memory?)")
            }
            head = next
        }
        guard let head else { return }
        lists.append(head)
        try check(ccurl_setopt_slist(handle, option, head), option)
    }

    func info(_ item: CURLINFO) -> Int {
        var value = 0
        return ccurl_getinfo_long(handle, item, &value) == CURLE_OK ? value : 0
    }

    func infoMicroseconds(_ item: CURLINFO) -> Int64 {
        var value: curl_off_t = 0
        return ccurl_getinfo_off(handle, item, &value) == CURLE_OK ? Int64(value) : 0
    }

    /// The most specific text libcurl has for `code`: its error buffer, else the code's name.
    func message(for code: CURLcode) -> String {
        let detail = String(cString: errorBuffer)
        if !detail.isEmpty { return detail }
        return String(cString: curl_easy_strerror(code))
    }

    private func check(_ code: CURLcode, _ option: CURLoption) throws(NetIOError) {
        guard code == CURLE_OK else {
            throw NetIOError(
                kind: .setup, code: Int(code.rawValue),
                message: "setting curl option \(option.rawValue) failed: \(String(cString: curl_easy_strerror(code)))")
        }
    }
}

/// `curl_global_init` must run once, before libcurl is used from several threads.
enum CurlGlobal {
    private static let initialised: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    static func ensureInitialised() { _ = initialised }
}
