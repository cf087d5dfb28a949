// Escaping for HTML/SVG text and attributes and CSV fields (JSON strings: String.jsonQuoted in
// StalwartTensor).

/// Escapes `& < > " '` for HTML/XML text and attribute values; control characters that XML forbids
/// become U+FFFD.
func escapeHTML(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for u in s.unicodeScalars {
        switch u {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        case "\t", "\n", "\r": out.unicodeScalars.append(u)
        default:
            if u.value < 0x20 || u.value == 0xFFFE || u.value == 0xFFFF {
                out += "\u{FFFD}"
            } else {
                out.unicodeScalars.append(u)
            }
        }
    }
    return out
}

/// An RFC 4180 field: quoted (with doubled quotes) when it holds `,` `"` CR, LF or edge spaces.
func csvField(_ s: String) -> String {
    let needsQuotes = s.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
        || s.first == " " || s.last == " "
    guard needsQuotes else { return s }
    var out = "\""
    for ch in s {
        if ch == "\"" { out += "\"\"" } else { out.append(ch) }
    }
    return out + "\""
}
