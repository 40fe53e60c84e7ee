/// One YAML document cut out of a stream, with the line it starts on (1-based).
struct DocumentChunk {
    let text: Substring
    let startLine: Int
}

/// Cuts a multi-document YAML stream into its documents at `---` and `...` lines, so that a
/// malformed document can be reported on its own and the others still load. A marker line
/// belongs to the document it opens, which keeps `--- !tag` and `--- |` working; a chunk of
/// only directives (`%YAML`) and comments stays with the document after it.
enum DocumentSplitter {
    static func split(_ text: String) -> [DocumentChunk] {
        let ranges = byteRanges(Array(text.utf8))
        let utf8 = text.utf8
        return ranges.map { range in
            let lower = utf8.index(utf8.startIndex, offsetBy: range.start)
            let upper = utf8.index(utf8.startIndex, offsetBy: range.end)
            return DocumentChunk(text: text[lower..<upper], startLine: range.line)
        }
    }

    /// The byte ranges and first lines of the documents in `bytes`.
    private static func byteRanges(_ bytes: [UInt8]) -> [(start: Int, end: Int, line: Int)] {
        var chunks: [(start: Int, end: Int, line: Int)] = []
        var chunkStart = 0
        var chunkLine = 1
        var chunkHasContent = false
        var line = 1
        var lineStart = 0
        let count = bytes.count
        while lineStart < count {
            var lineEnd = lineStart
            while lineEnd < count && bytes[lineEnd] != 0x0A { lineEnd += 1 }
            let lineBytes = bytes[lineStart..<lineEnd]
            let marker = markerKind(lineBytes)
            if marker != .none && lineStart != chunkStart && chunkHasContent {
                chunks.append((chunkStart, lineStart, chunkLine))
                chunkStart = lineStart
                chunkLine = line
                chunkHasContent = false
            }
            let next = min(lineEnd + 1, count)
            if marker == .end {
                // `...` closes the document: the next line starts a new chunk.
                if chunkHasContent { chunks.append((chunkStart, next, chunkLine)) }
                chunkStart = next
                chunkLine = line + 1
                chunkHasContent = false
            } else if marker == .start || isContent(lineBytes) {
                chunkHasContent = true
            }
            line += 1
            lineStart = next
        }
        if chunkHasContent && chunkStart < count { chunks.append((chunkStart, count, chunkLine)) }
        return chunks
    }

    private enum Marker { case none, start, end }

    /// `---` or `...` at column 0, alone or followed by white space.
    private static func markerKind(_ line: ArraySlice<UInt8>) -> Marker {
        guard line.count >= 3 else { return .none }
        let at = line.startIndex
        let first = line[at]
        guard first == UInt8(ascii: "-") || first == UInt8(ascii: "."), line[at + 1] == first, line[at + 2] == first else { return .none }
        if line.count > 3 {
            let next = line[at + 3]
            guard next == UInt8(ascii: " ") || next == UInt8(ascii: "\t") || next == UInt8(ascii: "\r") else { return .none }
        }
        return first == UInt8(ascii: "-") ? .start : .end
    }

    /// A line that is not blank, not a comment and not a directive.
    private static func isContent(_ line: ArraySlice<UInt8>) -> Bool {
        for byte in line {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"): continue
            case UInt8(ascii: "#"), UInt8(ascii: "%"): return false
            default: return true
            }
        }
        return false
    }
}
