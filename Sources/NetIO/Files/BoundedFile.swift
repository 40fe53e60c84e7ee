public import Foundation
import Glibc

/// Reads a whole file that netagent is given (configuration, manifest, secret) with a size
/// bound: only a regular file is read, and only up to `maxBytes`. The file is opened with
/// O_NONBLOCK and checked with fstat before any read, so a FIFO, a device (`/dev/zero`), a
/// socket or a folder is refused at once, never waited on nor read without end.
public enum BoundedFile {
    /// Why a file was not read. `description` names no content.
    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        public enum Kind: Sendable, Hashable { case missing, unreadable, notRegular, tooLarge }
        public let kind: Kind
        public let description: String
    }

    /// The file's bytes and its permission bits (`st_mode & 0o7777`).
    public static func read(_ path: String, maxBytes: Int) throws(Failure) -> (data: Data, mode: Int) {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT { throw Failure(kind: .missing, description: "no such file") }
            throw Failure(kind: .unreadable, description: "the file is not readable (\(String(cString: strerror(code))))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw Failure(kind: .unreadable, description: "cannot stat the file (\(String(cString: strerror(errno))))")
        }
        guard info.st_mode & mode_t(S_IFMT) == mode_t(S_IFREG) else {
            throw Failure(kind: .notRegular, description: "not a regular file (a FIFO, device, socket or folder is refused)")
        }
        let tooLarge = Failure(kind: .tooLarge, description: "the file has more than \(maxBytes) bytes, the limit for it")
        guard info.st_size <= maxBytes else { throw tooLarge }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
        var count = 0
        while count < bytes.count {
            let n = bytes[count...].withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else {
                throw Failure(kind: .unreadable, description: "the file is not readable (\(String(cString: strerror(errno))))")
            }
            if n == 0 { break }
            count += n
            // It grew after fstat: read on, within the bound.
            if count == bytes.count, count <= maxBytes { bytes += [UInt8](repeating: 0, count: min(count, maxBytes + 1 - count)) }
        }
        guard count <= maxBytes else { throw tooLarge }
        return (Data(bytes[0..<count]), Int(info.st_mode & 0o7777))
    }
}
