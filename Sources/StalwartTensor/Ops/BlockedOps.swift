/// Layout changes between NCHW and channel-blocked tensors (`ChannelBlocks`), and the pools the
/// engine runs on blocked tensors. Callers own and size every buffer; shapes are validated by
/// the operator layer. Thread-safe (work is spread over `pool`).
extension TensorOps {
    /// NCHW [batch][channels][pixels] → blocked [batch][⌈channels/16⌉][pixels][16], lanes past
    /// `channels` zero.
    public static func toBlocked(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                                 batch: Int, channels: Int, pixels: Int, pool: ThreadPool) {
        let blocks = ChannelBlocks.count(channels), ks = KernelSet.current
        parallelRanges(pool, count: batch * blocks, workPerItem: pixels * 16) { range in
            for t in range {
                let img = t / blocks, b = t % blocks
                let nc = Swift.min(16, channels - b * 16)
                ks.depthwiseC16.interleave(src + (img * channels + b * 16) * pixels, pixels, nc, pixels,
                                           dst + t * pixels * 16)
            }
        }
    }

    /// Blocked → NCHW (the inverse of `toBlocked`; lanes past `channels` are dropped).
    public static func fromBlocked(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                                   batch: Int, channels: Int, pixels: Int, pool: ThreadPool) {
        let blocks = ChannelBlocks.count(channels), ks = KernelSet.current
        parallelRanges(pool, count: batch * blocks, workPerItem: pixels * 16) { range in
            for t in range {
                let img = t / blocks, b = t % blocks
                let nc = Swift.min(16, channels - b * 16)
                ks.depthwiseC16.transposeOut(src + t * pixels * 16, 16, nc, pixels,
                                             dst + (img * channels + b * 16) * pixels, pixels, nil, nil, 0, 0, 0)
            }
        }
    }

    /// 2-D max pool on blocked tensors: `input` [planes][h][w][16] (planes = batch · blocks),
    /// `output` [planes][oh][ow][16]. Same windows and results as `pool(kind: .max)` per lane
    /// (taps folded with x > acc ? x : acc from −inf in (kh, kw) order; a window with no tap
    /// inside the input gives −greatestFiniteMagnitude).
    public static func maxPoolBlocked(_ input: UnsafePointer<Float>, planes: Int, h: Int, w: Int,
                                      kernel: [Int], strides: [Int], dilations: [Int], padsBegin: [Int],
                                      padsEnd: [Int], outH: Int, outW: Int, output: UnsafeMutablePointer<Float>,
                                      pool: ThreadPool) {
        guard kernel.count == 2, strides.count == 2, dilations.count == 2, padsBegin.count == 2, padsEnd.count == 2,
              planes > 0, outH > 0, outW > 0 else { return }
        var geo = PoolGeometry()
        geo.axes[0] = PoolAxis()
        geo.axes[1] = PoolAxis(inLen: h, outLen: outH, k: kernel[0], stride: strides[0], dil: dilations[0],
                               pb: padsBegin[0], pe: padsEnd[0])
        geo.axes[2] = PoolAxis(inLen: w, outLen: outW, k: kernel[1], stride: strides[1], dil: dilations[1],
                               pb: padsBegin[1], pe: padsEnd[1])
        geo.buildTables()
        let dh = dilations[0], dw = dilations[1]
        let row = KernelSet.current.depthwiseC16.maxPoolRow
        geo.table.withUnsafeBufferPointer { tb in
            guard let t = tb.baseAddress else { return }
            let th = t + geo.base[1], tw = t + geo.base[2]
            parallelRanges(pool, count: planes * outH, workPerItem: outW * kernel[0] * kernel[1] * 4) { range in
                for r in range {
                    let plane = r / outH, oy = r % outH
                    row(input + plane * h * w * 16, w, th[4 * oy], th[4 * oy + 1], th[4 * oy + 2], dh, dw, tw, outW,
                        output + (plane * outH + oy) * outW * 16)
                }
            }
        }
    }

    /// Global average pool of a blocked tensor [batch][⌈channels/16⌉][pixels][16] into NCHW
    /// [batch][channels] (means; 0 for an empty plane).
    public static func globalAveragePoolBlocked(_ input: UnsafePointer<Float>, batch: Int, channels: Int, pixels: Int,
                                                output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let blocks = ChannelBlocks.count(channels)
        parallelRanges(pool, count: batch * blocks, workPerItem: pixels * 16) { range in
            for t in range {
                let img = t / blocks, b = t % blocks
                let src = UnsafeRawPointer(input + t * pixels * 16)
                var s0 = SIMD16<Float>(), s1 = SIMD16<Float>(), s2 = SIMD16<Float>(), s3 = SIMD16<Float>()
                var p = 0
                while p + 4 <= pixels {
                    s0 += src.loadUnaligned(fromByteOffset: p * 64, as: SIMD16<Float>.self)
                    s1 += src.loadUnaligned(fromByteOffset: p * 64 + 64, as: SIMD16<Float>.self)
                    s2 += src.loadUnaligned(fromByteOffset: p * 64 + 128, as: SIMD16<Float>.self)
                    s3 += src.loadUnaligned(fromByteOffset: p * 64 + 192, as: SIMD16<Float>.self)
                    p += 4
                }
                while p < pixels {
                    s0 += src.loadUnaligned(fromByteOffset: p * 64, as: SIMD16<Float>.self)
                    p += 1
                }
                let mean = pixels > 0 ? ((s0 + s1) + (s2 + s3)) / SIMD16(repeating: Float(pixels)) : SIMD16<Float>()
                let nc = Swift.min(16, channels - b * 16)
                let dst = output + img * channels + b * 16
                for c in 0..<nc { dst[c] = mean[c] }
            }
        }
    }
}
