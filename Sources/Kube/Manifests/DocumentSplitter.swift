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
        var chunks: [DocumentChunk] = []
        let bytes = text.utf8
        var chunkStart = bytes.startIndex
        var chunkLine = 1
        var chunkHasContent = false
        var line = 1
        var lineStart = bytes.startIndex
        while lineStart < bytes.endIndex {
            let lineEnd = bytes[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex
            let lineBytes = bytes[lineStart..<lineEnd]
            let marker = markerKind(lineBytes)
            if marker != .none && lineStart != chunkStart && chunkHasContent {
                chunks.append(DocumentChunk(text: text[chunkStart..<lineStart], startLine: chunkLine))
                chunkStart = lineStart
                chunkLine = line
                chunkHasContent = false
            }
            if marker == .end {
                // `...` closes the document: the next line starts a new chunk.
                let next = lineEnd < bytes.endIndex ? bytes.index(after: lineEnd) : lineEnd
                if chunkHasContent { chunks.append(DocumentChunk(text: text[chunkStart..<next], startLine: chunkLine)) }
                chunkStart = next
                chunkLine = line + 1
                chunkHasContent = false
            } else if marker == .start || isContent(lineBytes) {
                chunkHasContent = true
            }
            line += 1
            lineStart = lineEnd < bytes.endIndex ? bytes.index(after: lineEnd) : lineEnd
        }
        if chunkHasContent && chunkStart < bytes.endIndex {
            chunks.append(DocumentChunk(text: text[chunkStart..<bytes.endIndex], startLine: chunkLine))
        }
        return chunks
    }

    private enum Marker { case none, start, end }

    /// `---` or `...` at column 0, alone or followed by white space.
    private static func markerKind(_ line: Substring.UTF8View.SubSequence) -> Marker {
        guard line.count >= 3 else { return .none }
        let first = line[line.startIndex]
        guard first == UInt8(ascii: "-") || first == UInt8(ascii: ".") else { return .none }
        var index = line.startIndex
        for _ in 0..<3 {
            guard line[index] == first else { return .none }
            index = line.index(after: index)
        }
        if index < line.endIndex {
            let next = line[index]
            guard next == UInt8(ascii: " ") || next == UInt8(ascii: "\t") || next == UInt8(ascii: "\r") else { return .none }
        }
        return first == UInt8(ascii: "-") ? .start : .end
    }

    /// A line that is not blank, not a comment and not a directive.
    private static func isContent(_ line: Substring.UTF8View.SubSequence) -> Bool {
        for byte in line {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"): continue
            case UInt8(ascii: "#"): return false
            case UInt8(ascii: "%"): return false
            default: return true
            }
        }
        return false
    }
}
