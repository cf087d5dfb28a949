extension String {
    /// Appends this string as a quoted JSON string literal (RFC 8259): `"` and `\` escaped,
    /// `\n \r \t \b \f` by their short forms, other control characters as `\u00XX`; everything
    /// else (including non-ASCII) as is. Shared by the JSON writers of StalwartData and
    /// StalwartReport.
    public func appendJSONQuoted(to out: inout String) {
        out += "\""
        for u in unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }

    /// This string as a quoted JSON string literal (see `appendJSONQuoted(to:)`).
    public var jsonQuoted: String {
        var out = ""
        appendJSONQuoted(to: &out)
        return out
    }
}
