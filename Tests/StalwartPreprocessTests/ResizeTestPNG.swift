import StalwartTensor

/// A minimal PNG reader for the test photos (8-bit gray / RGB / RGBA, not interlaced), with its
/// own DEFLATE decoder (RFC 1951), so these tests need neither StalwartImageIO nor libpng.
/// Test-only: slow-ish and strict; anything else is an error.
enum TestPNG {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func decode(_ file: [UInt8]) throws -> Image {
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        guard file.count > 8, Array(file[0..<8]) == signature else { throw Failure(description: "not a PNG") }
        var pos = 8
        var width = 0, height = 0, channels = 0
        var idat = [UInt8]()
        func be32(_ p: Int) -> Int {
            Int(file[p]) << 24 | Int(file[p + 1]) << 16 | Int(file[p + 2]) << 8 | Int(file[p + 3])
        }
        while pos + 12 <= file.count {
            let len = be32(pos)
            let type = String(decoding: file[pos + 4..<pos + 8], as: UTF8.self)
            let body = pos + 8
            guard len >= 0, body + len + 4 <= file.count else { throw Failure(description: "truncated chunk") }
            switch type {
            case "IHDR":
                width = be32(body); height = be32(body + 4)
                let depth = file[body + 8], color = file[body + 9], interlace = file[body + 12]
                guard depth == 8, interlace == 0 else { throw Failure(description: "only 8-bit non-interlaced PNGs") }
                switch color {
                case 0: channels = 1
                case 2: channels = 3
                case 6: channels = 4
                default: throw Failure(description: "color type \(color) unsupported")
                }
            case "IDAT":
                idat += file[body..<body + len]
            default:
                break
            }
            pos = body + len + 4
            if type == "IEND" { break }
        }
        guard width > 0, height > 0, channels > 0, idat.count > 2 else { throw Failure(description: "no image data") }
        let stride = width * channels
        var inflater = Inflater(Array(idat[2...]))   // skip the zlib header
        let raw = try inflater.inflate(expected: (stride + 1) * height)
        guard raw.count >= (stride + 1) * height else { throw Failure(description: "short image data") }
        var px = [UInt8](repeating: 0, count: stride * height)
        for y in 0..<height {
            let f = raw[y * (stride + 1)]
            let src = y * (stride + 1) + 1
            let dst = y * stride
            for i in 0..<stride {
                let x = raw[src + i]
                let a = i >= channels ? Int(px[dst + i - channels]) : 0
                let b = y > 0 ? Int(px[dst - stride + i]) : 0
                let c = (y > 0 && i >= channels) ? Int(px[dst - stride + i - channels]) : 0
                let pred: Int
                switch f {
                case 0: pred = 0
                case 1: pred = a
                case 2: pred = b
                case 3: pred = (a + b) / 2
                case 4:
                    let p = a + b - c
                    let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    pred = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c)
                default: throw Failure(description: "bad filter \(f)")
                }
                px[dst + i] = UInt8(truncatingIfNeeded: Int(x) + pred)
            }
        }
        return try Image(width: width, height: height, channels: channels, pixels: px)
    }

    /// DEFLATE decoder with canonical Huffman tables decoded through a 9-bit lookup (longer
    /// codes fall back to bit-by-bit canonical decoding).
    struct Inflater {
        let data: [UInt8]
        var pos = 0
        var bitBuf: UInt64 = 0
        var bitCount = 0
        var out = [UInt8]()

        init(_ data: [UInt8]) { self.data = data }

        mutating func need(_ n: Int) throws {
            while bitCount < n {
                guard pos < data.count else { throw Failure(description: "deflate stream truncated") }
                bitBuf |= UInt64(data[pos]) << UInt64(bitCount)
                pos += 1
                bitCount += 8
            }
        }

        mutating func bits(_ n: Int) throws -> Int {
            if n == 0 { return 0 }
            try need(n)
            let v = Int(bitBuf & ((1 << UInt64(n)) - 1))
            bitBuf >>= UInt64(n)
            bitCount -= n
            return v
        }

        struct Huffman {
            var counts = [Int](repeating: 0, count: 16)
            var symbols = [Int]()
            /// (symbol << 4 | length) for the next 9 bits (bit-reversed codes), or -1.
            var fast = [Int](repeating: -1, count: 512)

            init(lengths: [Int]) throws {
                for l in lengths { counts[l] += 1 }
                counts[0] = 0
                var offs = [Int](repeating: 0, count: 16)
                for l in 1..<16 { offs[l] = offs[l - 1] + counts[l - 1] }
                symbols = [Int](repeating: 0, count: lengths.count)
                for (s, l) in lengths.enumerated() where l != 0 {
                    symbols[offs[l]] = s
                    offs[l] += 1
                }
                // Canonical codes → reversed-bit lookup for lengths ≤ 9.
                var code = 0
                var index = 0
                for len in 1..<16 {
                    for _ in 0..<counts[len] {
                        if len <= 9 {
                            var rev = 0
                            for b in 0..<len where code & (1 << b) != 0 { rev |= 1 << (len - 1 - b) }
                            var r = rev
                            while r < 512 {
                                fast[r] = symbols[index] << 4 | len
                                r += 1 << len
                            }
                        }
                        code += 1
                        index += 1
                    }
                    code <<= 1
                }
            }
        }

        mutating func symbol(_ h: Huffman) throws -> Int {
            if bitCount < 9 {
                while bitCount < 9 && pos < data.count {
                    bitBuf |= UInt64(data[pos]) << UInt64(bitCount)
                    pos += 1
                    bitCount += 8
                }
            }
            if bitCount >= 9 {
                let e = h.fast[Int(bitBuf & 511)]
                if e >= 0 {
                    let len = e & 15
                    bitBuf >>= UInt64(len)
                    bitCount -= len
                    return e >> 4
                }
            }
            var code = 0, first = 0, index = 0
            for len in 1..<16 {
                code |= try bits(1)
                let count = h.counts[len]
                if code - first < count { return h.symbols[index + code - first] }
                index += count
                first += count
                first <<= 1
                code <<= 1
            }
            throw Failure(description: "bad Huffman code")
        }

        static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
        static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
        static let distBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
        static let distExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

        mutating func inflate(expected: Int) throws -> [UInt8] {
            out.reserveCapacity(expected)
            var final = 0
            repeat {
                final = try bits(1)
                switch try bits(2) {
                case 0:
                    // Stored block: drop the partial byte, give back whole bytes read ahead.
                    pos -= bitCount / 8
                    bitBuf = 0; bitCount = 0
                    guard pos + 4 <= data.count else { throw Failure(description: "stored block truncated") }
                    let len = Int(data[pos]) | Int(data[pos + 1]) << 8
                    pos += 4
                    guard pos + len <= data.count else { throw Failure(description: "stored block truncated") }
                    out += data[pos..<pos + len]
                    pos += len
                case 1:
                    let lit = try Huffman(lengths: (0..<288).map { $0 < 144 ? 8 : $0 < 256 ? 9 : $0 < 280 ? 7 : 8 })
                    let dist = try Huffman(lengths: [Int](repeating: 5, count: 30))
                    try codes(lit, dist)
                case 2:
                    let nlen = try bits(5) + 257, ndist = try bits(5) + 1, ncode = try bits(4) + 4
                    let order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
                    var cl = [Int](repeating: 0, count: 19)
                    for i in 0..<ncode { cl[order[i]] = try bits(3) }
                    let clh = try Huffman(lengths: cl)
                    var lengths = [Int]()
                    while lengths.count < nlen + ndist {
                        let s = try symbol(clh)
                        switch s {
                        case 0..<16: lengths.append(s)
                        case 16:
                            guard let prev = lengths.last else { throw Failure(description: "repeat with no previous length") }
                            lengths += [Int](repeating: prev, count: 3 + (try bits(2)))
                        case 17: lengths += [Int](repeating: 0, count: 3 + (try bits(3)))
                        default: lengths += [Int](repeating: 0, count: 11 + (try bits(7)))
                        }
                    }
                    guard lengths.count == nlen + ndist else { throw Failure(description: "too many code lengths") }
                    try codes(Huffman(lengths: Array(lengths[0..<nlen])), Huffman(lengths: Array(lengths[nlen...])))
                default:
                    throw Failure(description: "bad block type")
                }
            } while final == 0
            return out
        }

        mutating func codes(_ lit: Huffman, _ dist: Huffman) throws {
            while true {
                let s = try symbol(lit)
                if s < 256 {
                    out.append(UInt8(s))
                } else if s == 256 {
                    return
                } else {
                    let li = s - 257
                    guard li < 29 else { throw Failure(description: "bad length symbol") }
                    let len = Inflater.lengthBase[li] + (try bits(Inflater.lengthExtra[li]))
                    let di = try symbol(dist)
                    guard di < 30 else { throw Failure(description: "bad distance symbol") }
                    let d = Inflater.distBase[di] + (try bits(Inflater.distExtra[di]))
                    guard d <= out.count else { throw Failure(description: "distance too far back") }
                    let start = out.count - d
                    for i in 0..<len { out.append(out[start + i]) }
                }
            }
        }
    }
}
