// Format sniffing, file reading/writing (Glibc, no Foundation) and CRC-32.
import Glibc
import StalwartTensor

enum Sniff {
    enum Format { case png, jpeg }

    /// PNG or JPEG by signature; any other content throws `.unsupported` naming what it looks like.
    static func format(_ b: UnsafeRawBufferPointer) throws -> Format {
        guard b.count > 0 else { throw StalwartError.decode("no image data (0 bytes)") }
        func starts(_ sig: [UInt8], at o: Int = 0) -> Bool {
            guard b.count >= o + sig.count else { return false }
            for (i, v) in sig.enumerated() where b[o + i] != v { return false }
            return true
        }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        let what = describe(b, starts: starts)
        if what.contains("damaged") {   // a PNG or JPEG whose signature is corrupt
            throw StalwartError.decode("corrupt image: the data \(what)")
        }
        throw StalwartError.unsupported("unsupported image format: the data \(what); Stalwart decodes PNG and JPEG")
    }

    private static func describe(_ b: UnsafeRawBufferPointer, starts: ([UInt8], Int) -> Bool) -> String {
        let ascii = { (s: String) in Array(s.utf8) }
        if starts([0x50, 0x4E, 0x47], 1) || starts([0x0D, 0x0A, 0x1A, 0x0A], 4) || starts([0x89, 0x50, 0x4E, 0x47], 0) {
            return "looks like a PNG with a damaged signature (\(hexPrefix(b)))"
        }
        if starts([0xFF, 0xD8], 0) { return "looks like a damaged JPEG (no marker after SOI)" }
        if starts(ascii("GIF87a"), 0) || starts(ascii("GIF89a"), 0) { return "looks like GIF" }
        if starts(ascii("RIFF"), 0) && starts(ascii("WEBP"), 8) { return "looks like WebP" }
        if starts(ascii("BM"), 0) && b.count >= 26 { return "looks like BMP" }
        if starts([0x49, 0x49, 0x2A, 0x00], 0) || starts([0x4D, 0x4D, 0x00, 0x2A], 0) { return "looks like TIFF" }
        if starts([0x49, 0x49, 0x2B, 0x00], 0) || starts([0x4D, 0x4D, 0x00, 0x2B], 0) { return "looks like BigTIFF" }
        if starts(ascii("ftyp"), 4) {
            if starts(ascii("avif"), 8) || starts(ascii("avis"), 8) { return "looks like AVIF" }
            if starts(ascii("heic"), 8) || starts(ascii("heix"), 8) || starts(ascii("mif1"), 8) || starts(ascii("msf1"), 8) { return "looks like HEIF/HEIC" }
            if starts(ascii("jp2 "), 8) { return "looks like JPEG 2000" }
            return "looks like an ISO media file (MP4/HEIF family)"
        }
        if starts([0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20], 0) { return "looks like JPEG 2000" }
        if starts([0xFF, 0x4F, 0xFF, 0x51], 0) { return "looks like a JPEG 2000 codestream" }
        if starts([0xFF, 0x0A], 0) || starts([0x00, 0x00, 0x00, 0x0C, 0x4A, 0x58, 0x4C, 0x20], 0) { return "looks like JPEG XL" }
        if starts(ascii("qoif"), 0) { return "looks like QOI" }
        if starts(ascii("8BPS"), 0) { return "looks like a Photoshop PSD" }
        if starts([0x00, 0x00, 0x01, 0x00], 0) { return "looks like a Windows ICO" }
        if starts(ascii("%PDF"), 0) { return "looks like PDF" }
        if starts([0x1F, 0x8B], 0) { return "looks like gzip" }
        if starts([0x50, 0x4B, 0x03, 0x04], 0) { return "looks like a ZIP archive" }
        if starts(ascii("\u{93}NUMPY"), 0) || starts([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59], 0) { return "looks like a NumPy .npy file" }
        if b.count >= 2, b[0] == UInt8(ascii: "P"), (UInt8(ascii: "1")...UInt8(ascii: "7")).contains(b[1]) { return "looks like PNM (PBM/PGM/PPM/PAM)" }
        let head = min(b.count, 512)
        var text = true
        for i in 0..<head {
            let c = b[i]
            if !(c == 9 || c == 10 || c == 13 || (c >= 32 && c < 127) || c >= 0x80) { text = false; break }
        }
        if text {
            if starts(ascii("<svg"), 0) || starts(ascii("<?xml"), 0) { return "looks like XML/SVG text" }
            return "looks like text"
        }
        return "starts with bytes \(hexPrefix(b)) (\(b.count) bytes), no known image signature"
    }

    private static func hexPrefix(_ b: UnsafeRawBufferPointer) -> String {
        var hex = ""
        for i in 0..<min(b.count, 8) {
            let v = Int(b[i])
            hex += (v < 16 ? "0" : "") + String(v, radix: 16)
        }
        return hex
    }
}

enum FileIO {
    /// The whole file. Errors are `.io` and name the path.
    static func read(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StalwartError.io("cannot open '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw StalwartError.io("cannot stat '\(path)': \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw StalwartError.io("'\(path)' is not a regular file") }
        let size = Int(st.st_size)
        guard size <= Int(Int32.max) * 4 else { throw StalwartError.outOfMemory("'\(path)' is too large (\(size) bytes)") }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        try bytes.withUnsafeMutableBytes { buf in
            guard let base = buf.baseAddress else { return }
            while done < size {
                let n = Glibc.read(fd, base + done, size - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw StalwartError.io("cannot read '\(path)': \(String(cString: strerror(errno)))")
                }
                if n == 0 { break }
                done += n
            }
        }
        if done < size { bytes.removeSubrange(done...) }
        return bytes
    }

    /// Writes `bytes` to `path` (created or truncated, mode 0644).
    static func write(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StalwartError.io("cannot create '\(path)': \(String(cString: strerror(errno)))") }
        var done = 0
        let failure: String? = bytes.withUnsafeBytes { buf in
            guard let base = buf.baseAddress else { return nil }
            while done < buf.count {
                let n = Glibc.write(fd, base + done, buf.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    return String(cString: strerror(errno))
                }
                done += n
            }
            return nil
        }
        let closed = close(fd)
        if let failure { throw StalwartError.io("cannot write '\(path)': \(failure)") }
        guard closed == 0 else { throw StalwartError.io("cannot write '\(path)': \(String(cString: strerror(errno)))") }
    }
}

/// CRC-32 (ISO-HDLC, the PNG chunk checksum).
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c = ~crc
        table.withUnsafeBufferPointer { t in
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        return ~c
    }
}
