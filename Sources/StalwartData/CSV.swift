import StalwartTensor

/// A strict RFC 4180 CSV reader. Stateless and thread-safe.
public enum CSV {
    /// Parses `text` into its header (the first record) and data rows.
    ///
    /// - Fields are separated by `,`; records end with LF or CRLF (the last one may lack it).
    /// - A quoted field (`"…"`) may contain commas, line breaks and doubled quotes (`""` → `"`);
    ///   a quote inside an unquoted field, text after a closing quote, or an unterminated quote
    ///   is an error.
    /// - A leading UTF-8 BOM is dropped; completely empty lines are skipped.
    /// - Every row must have as many fields as the header, else the error names the line
    ///   (1-based, counting physical lines).
    /// Throws `StalwartError.decode`.
    public static func parse(_ text: String) throws -> (header: [String], rows: [[String]]) {
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1, recordLine = 1
        var inQuotes = false, wasQuoted = false, afterQuote = false
        var bytes = Array(text.utf8)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }

        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            wasQuoted = false; afterQuote = false
        }
        func endRecord() {
            // An empty line is one empty unquoted field: skip it.
            if !(fields.isEmpty && field.isEmpty && !wasQuoted) {
                endField()
                records.append((recordLine, fields))
            }
            fields.removeAll(keepingCapacity: true)
            field.removeAll(keepingCapacity: true)
            wasQuoted = false; afterQuote = false
        }

        var k = 0
        while k < bytes.count {
            let c = bytes[k]
            if inQuotes {
                if c == UInt8(ascii: "\"") {
                    if k + 1 < bytes.count, bytes[k + 1] == UInt8(ascii: "\"") { field.append(c); k += 2; continue }
                    inQuotes = false; afterQuote = true
                } else {
                    if c == 0x0A { line += 1 }
                    field.append(c)
                }
                k += 1
                continue
            }
            switch c {
            case UInt8(ascii: ","):
                endField()
            case 0x0A, 0x0D:
                if c == 0x0D {
                    guard k + 1 < bytes.count, bytes[k + 1] == 0x0A else {
                        throw StalwartError.decode("CSV line \(line): bare carriage return (expected CRLF or LF)")
                    }
                    k += 1
                }
                endRecord()
                line += 1
                recordLine = line
            case UInt8(ascii: "\""):
                guard field.isEmpty, !wasQuoted else {
                    throw StalwartError.decode("CSV line \(line): quote inside an unquoted field")
                }
                inQuotes = true; wasQuoted = true
            default:
                if afterQuote {
                    throw StalwartError.decode("CSV line \(line): text after the closing quote of a field")
                }
                field.append(c)
            }
            k += 1
        }
        if inQuotes { throw StalwartError.decode("CSV line \(recordLine): unterminated quoted field") }
        if !fields.isEmpty || !field.isEmpty || wasQuoted { endRecord() }

        guard let header = records.first else { throw StalwartError.decode("CSV is empty (no header line)") }
        var rows: [[String]] = []
        rows.reserveCapacity(records.count - 1)
        for r in records.dropFirst() {
            guard r.fields.count == header.fields.count else {
                throw StalwartError.decode(
                    "CSV line \(r.line): \(r.fields.count) fields, expected \(header.fields.count) (as the header)")
            }
            rows.append(r.fields)
        }
        return (header.fields, rows)
    }
}
