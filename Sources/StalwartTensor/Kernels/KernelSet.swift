import CStalwartCPU
import StalwartKernelsAVX2
import StalwartKernelsAVX512
#if canImport(Glibc)
import Glibc
#endif

/// Which instruction set the compute kernels use; reported in logs and by the CLI.
public enum KernelInfo {
    /// "avx512", "avx2" or "generic": the kernel set chosen at first use (see `KernelSet`).
    public static var isa: String { KernelSet.current.isa.rawValue }
}

/// Instruction sets with a kernel implementation, best first.
enum KernelISA: String, CaseIterable, Sendable {
    case avx512, avx2, generic

    /// True when this CPU (and OS) can run the kernels.
    var isSupported: Bool {
        switch self {
        case .avx512: return swcpu_has_avx512()
        case .avx2: return swcpu_has_avx2_fma()
        case .generic: return true
        }
    }
}

/// Epilogue of a kernel store: `out = act(alpha · acc + beta · out_old + bias[row] + residual)`.
/// `beta == 0` means the old output is not read. Activation codes as in the ISA modules:
/// 0 none, 1 relu, 2 clip(p0, p1), 3 leakyRelu(p0), 4 hardSigmoid(p0, p1), 5 hardSwish, 6 sigmoid.
struct KernelEpilogue {
    var alpha: Float = 1
    var beta: Float = 0
    var act: Int = 0
    var p0: Float = 0
    var p1: Float = 0

    init(alpha: Float = 1, beta: Float = 0) { self.alpha = alpha; self.beta = beta }

    init(activation: FusedActivation) {
        switch activation {
        case .none: act = 0
        case .relu: act = 1
        case .clip(let lo, let hi): act = 2; p0 = lo; p1 = hi
        case .leakyRelu(let a): act = 3; p0 = a
        case .hardSigmoid(let a, let b): act = 4; p0 = a; p1 = b
        case .hardSwish: act = 5
        case .sigmoid: act = 6
        }
    }
}

/// Macro kernel over one k-block (see `avx512GemmBlock`): C[0..<m, 0..<n] = epilogue(A·B).
typealias GemmBlockFunction = (
    _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ aPanelStride: Int,
    _ b: UnsafePointer<Float>, _ bPanelStride: Int, _ bStride: Int,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
    _ bias: UnsafePointer<Float>?, _ residual: UnsafePointer<Float>?, _ e: KernelEpilogue) -> Void

/// Macro kernel of a direct convolution (see `avx512GemmBlockIndirect`): as `GemmBlockFunction`,
/// but row p of B panel j is at `b + j·bPanelStride + offsets[p]` (floats).
typealias GemmBlockIndirectFunction = (
    _ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<Float>, _ aPanelStride: Int,
    _ b: UnsafePointer<Float>, _ bPanelStride: Int, _ offsets: UnsafePointer<Int>,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
    _ bias: UnsafePointer<Float>?, _ residual: UnsafePointer<Float>?, _ e: KernelEpilogue) -> Void

/// Depthwise plane from a prepared source (see `avx512DepthwisePlane`); tap (ky, kx) reads
/// `src + oy·rowStep + rowOffsets[ky] + colOffsets[kx] + ox`.
typealias DepthwiseFunction = (
    _ src: UnsafePointer<Float>, _ rowStep: Int, _ kh: Int, _ kw: Int, _ rowOffsets: UnsafePointer<Int>,
    _ colOffsets: UnsafePointer<Int>, _ weights: UnsafePointer<Float>, _ oh: Int, _ ow: Int,
    _ out: UnsafeMutablePointer<Float>, _ residual: UnsafePointer<Float>?, _ bias: Float,
    _ e: KernelEpilogue) -> Void

/// Lays out one input plane for `DepthwiseFunction` (see `avx512DepthwisePrepare`).
typealias DepthwisePrepareFunction = (
    _ src: UnsafePointer<Float>, _ h: Int, _ w: Int, _ padTop: Int, _ padLeft: Int, _ rows: Int,
    _ sw: Int, _ phaseStride: Int, _ dst: UnsafeMutablePointer<Float>, _ temp: UnsafeMutablePointer<Float>) -> Void

/// The kernels of one instruction set. Chosen once (`current`); tests build every supported one.
struct KernelSet: @unchecked Sendable {
    let isa: KernelISA
    /// Rows of a packed A panel / columns of a B panel in the GEMM microkernel.
    let mr: Int
    let nr: Int
    /// Lanes the depthwise kernel reads at once (it reads up to `vectorWidth − 1` floats past
    /// the last output column of a prepared row).
    let vectorWidth: Int
    let gemmBlock: GemmBlockFunction
    let gemmBlockIndirect: GemmBlockIndirectFunction
    let depthwise: DepthwiseFunction
    let depthwisePrepare: DepthwisePrepareFunction
    /// Σ a[i]·b[i] over n floats.
    let dot: (_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float
    /// out[r] = Σ a[i]·b[r·ldb + i] for r < 4 over n floats (four rows, `a` loaded once).
    let dot4: (_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ ldb: Int, _ n: Int, _ out: UnsafeMutablePointer<Float>) -> Void
    /// y[i] += alpha · x[i] over n floats.
    let axpy: (_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) -> Void
    /// Pillow 8-bit resampling passes (see `Resample8Kernels`); nil for the generic set, whose
    /// callers run their own portable loops.
    var resample8: Resample8Kernels? = nil
    /// Counter-based random streams (see `RandomStreamKernels`); every set has them.
    var streams: RandomStreamKernels = .portable
    /// Float64 filter rows of the blur corruptions (see `FilterRowKernels`).
    var filterRows: FilterRowKernels = .portable
    /// Score-row statistics of the metrics (see `ScoreRowKernels`).
    var scoreRows: ScoreRowKernels = .portable
    /// Channel-blocked depthwise kernels (`DepthwiseC16Kernels`); every set has them.
    var depthwiseC16: DepthwiseC16Kernels = .portable
    /// NCHWc direct convolution (`NchwcConvKernels`); every set has it.
    var nchwc: NchwcConvKernels = .portable
    /// Winograd F(2×2, 3×3) transforms over 16-channel blocks (`WinogradC16Kernels`).
    var winograd: WinogradC16Kernels = .portable

    /// The kernel set used by the engine: the best the CPU supports, lowered (never raised) by
    /// the environment variable `STALWART_ISA` = `avx512` | `avx2` | `generic`.
    static let current: KernelSet = {
        let env = getenv("STALWART_ISA").map { String(cString: $0) }
        return KernelSet.make(select(request: env)) ?? KernelSet.generic
    }()

    /// The best supported ISA, or `request` (an ISA name, any case) when it names a supported
    /// one; unknown names are ignored. Every ISA below a supported one is supported, so this
    /// can only lower the choice.
    static func select(request: String?) -> KernelISA {
        let best = KernelISA.allCases.first { $0.isSupported } ?? .generic
        guard let request, let wanted = KernelISA(rawValue: request.lowercased()), wanted.isSupported
        else { return best }
        return wanted
    }

    /// Every kernel set this CPU can run (for tests).
    static var supported: [KernelSet] { KernelISA.allCases.compactMap { make($0) } }

    /// The kernels for `isa`, or nil when the CPU lacks it.
    static func make(_ isa: KernelISA) -> KernelSet? {
        guard isa.isSupported else { return nil }
        switch isa {
        case .avx512:
            return KernelSet(
                isa: .avx512, mr: avx512GemmMR, nr: avx512GemmNR, vectorWidth: 16,
                gemmBlock: { m, n, k, a, aps, b, bps, bs, c, ldc, bias, res, e in
                    avx512GemmBlock(m: m, n: n, k: k, a: a, aPanelStride: aps, b: b, bPanelStride: bps,
                                    bStride: bs, c: c, ldc: ldc, bias: bias, residual: res,
                                    alpha: e.alpha, beta: e.beta, act: e.act, p0: e.p0, p1: e.p1)
                },
                gemmBlockIndirect: { m, n, k, a, aps, b, bps, offs, c, ldc, bias, res, e in
                    avx512GemmBlockIndirect(m: m, n: n, k: k, a: a, aPanelStride: aps, b: b, bPanelStride: bps,
                                    offsets: offs, c: c, ldc: ldc, bias: bias, residual: res,
                                    alpha: e.alpha, beta: e.beta, act: e.act, p0: e.p0, p1: e.p1)
                },
                depthwise: { src, step, kh, kw, ro, co, w, oh, ow, out, res, bias, e in
                    avx512DepthwisePlane(src: src, rowStep: step, kh: kh, kw: kw, rowOffsets: ro, colOffsets: co,
                                         weights: w,
                                         oh: oh, ow: ow, out: out, residual: res, bias: bias, act: e.act, p0: e.p0, p1: e.p1)
                },
                depthwisePrepare: { src, h, w, pt, pl, rows, sw, ps, dst, temp in
                    avx512DepthwisePrepare(src: src, h: h, w: w, padTop: pt, padLeft: pl, rows: rows, sw: sw,
                                          phaseStride: ps, dst: dst, temp: temp)
                },
                dot: { avx512Dot($0, $1, $2) },
                dot4: { avx512Dot4($0, $1, $2, $3, $4) },
                axpy: { avx512Axpy($0, $1, $2, $3) },
                resample8: Resample8Kernels(isa: "avx512", vertical: avx512ResampleVertical8, horizontal: avx512ResampleHorizontal8),
                streams: RandomStreamKernels(isa: "avx512", normals: avx512PhiloxNormals, units: avx512PhiloxUnits, words: avx512PhiloxWords),
                filterRows: FilterRowKernels(isa: "avx512", weightedSum: { avx512WeightedSumRowF64($0, $1, $2, taps: $3, n: $4) },
                                             symmetric: { avx512SymmetricRowF64($0, $1, $2, $3, $4, r: $5, n: $6) }),
                scoreRows: ScoreRowKernels(isa: "avx512", stats: { avx512ScoreRowStats($0, $1, $2, $3) }),
                depthwiseC16: DepthwiseC16Kernels(conv: avx512DepthwiseC16, interleave: avx512InterleaveC16,
                                                  transposeOut: avx512TransposeOut16, maxPoolRow: avx512MaxPoolRowC16),
                nchwc: NchwcConvKernels(groupBlocks: avx512NchwcGroupBlocks, tilePixels: avx512NchwcTilePixels,
                                        run: avx512ConvNchwc),
                winograd: WinogradC16Kernels(inputRow: avx512WinogradInputRowC16, outputRow: avx512WinogradOutputRowC16))
        case .avx2:
            return KernelSet(
                isa: .avx2, mr: avx2GemmMR, nr: avx2GemmNR, vectorWidth: 8,
                gemmBlock: { m, n, k, a, aps, b, bps, bs, c, ldc, bias, res, e in
                    avx2GemmBlock(m: m, n: n, k: k, a: a, aPanelStride: aps, b: b, bPanelStride: bps,
                                  bStride: bs, c: c, ldc: ldc, bias: bias, residual: res,
                                    alpha: e.alpha, beta: e.beta, act: e.act, p0: e.p0, p1: e.p1)
                },
                gemmBlockIndirect: { m, n, k, a, aps, b, bps, offs, c, ldc, bias, res, e in
                    avx2GemmBlockIndirect(m: m, n: n, k: k, a: a, aPanelStride: aps, b: b, bPanelStride: bps,
                                    offsets: offs, c: c, ldc: ldc, bias: bias, residual: res,
                                    alpha: e.alpha, beta: e.beta, act: e.act, p0: e.p0, p1: e.p1)
                },
                depthwise: { src, step, kh, kw, ro, co, w, oh, ow, out, res, bias, e in
                    avx2DepthwisePlane(src: src, rowStep: step, kh: kh, kw: kw, rowOffsets: ro, colOffsets: co,
                                         weights: w,
                                       oh: oh, ow: ow, out: out, residual: res, bias: bias, act: e.act, p0: e.p0, p1: e.p1)
                },
                depthwisePrepare: { src, h, w, pt, pl, rows, sw, ps, dst, temp in
                    avx2DepthwisePrepare(src: src, h: h, w: w, padTop: pt, padLeft: pl, rows: rows, sw: sw,
                                          phaseStride: ps, dst: dst, temp: temp)
                },
                dot: { avx2Dot($0, $1, $2) },
                dot4: { avx2Dot4($0, $1, $2, $3, $4) },
                axpy: { avx2Axpy($0, $1, $2, $3) },
                resample8: Resample8Kernels(isa: "avx2", vertical: avx2ResampleVertical8, horizontal: avx2ResampleHorizontal8),
                streams: RandomStreamKernels(isa: "avx2", normals: avx2PhiloxNormals, units: avx2PhiloxUnits, words: avx2PhiloxWords),
                filterRows: FilterRowKernels(isa: "avx2", weightedSum: { avx2WeightedSumRowF64($0, $1, $2, taps: $3, n: $4) },
                                             symmetric: { avx2SymmetricRowF64($0, $1, $2, $3, $4, r: $5, n: $6) }),
                scoreRows: ScoreRowKernels(isa: "avx2", stats: { avx2ScoreRowStats($0, $1, $2, $3) }),
                depthwiseC16: DepthwiseC16Kernels(conv: avx2DepthwiseC16, interleave: avx2InterleaveC16,
                                                  transposeOut: avx2TransposeOut16, maxPoolRow: avx2MaxPoolRowC16),
                nchwc: NchwcConvKernels(groupBlocks: avx2NchwcGroupBlocks, tilePixels: avx2NchwcTilePixels,
                                        run: avx2ConvNchwc),
                winograd: WinogradC16Kernels(inputRow: avx2WinogradInputRowC16, outputRow: avx2WinogradOutputRowC16))
        case .generic:
            return .generic
        }
    }

    static let generic = KernelSet(
        isa: .generic, mr: PortableKernels.mr, nr: PortableKernels.nr, vectorWidth: 1,
        gemmBlock: PortableKernels.gemmBlock, gemmBlockIndirect: PortableKernels.gemmBlockIndirect,
        depthwise: PortableKernels.depthwise,
        depthwisePrepare: PortableKernels.depthwisePrepare,
        dot: PortableKernels.dot, dot4: PortableKernels.dot4, axpy: PortableKernels.axpy)
}

/// Philox4x32-10 streams in groups of 8 blocks and their transforms to float32 normals, uniform
/// doubles (32 random bits) and raw words (layouts in scripts/isa_templates/random_streams.swift). Every
/// ISA instance is generated from one template using only exactly rounded operations, so all
/// return the same bits: the choice of ISA changes speed, never values.
/// Arguments: output (caller-owned, ≥ 32·groups values),
/// group count, first block (a multiple of 8), high counter words, key. Thread-safe.
public struct RandomStreamKernels: @unchecked Sendable {
    public typealias Fill<T> = (_ out: UnsafeMutablePointer<T>, _ groups: Int, _ counter: UInt64, _ high: UInt64,
                                _ k0: UInt32, _ k1: UInt32) -> Void
    /// "avx512", "avx2" or "portable".
    public let isa: String
    public let normals: Fill<Float>
    public let units: Fill<Double>
    public let words: Fill<UInt32>

    init(isa: String, normals: @escaping (UnsafeMutablePointer<Float>, Int, UInt64, UInt64, UInt32, UInt32) -> Void,
         units: @escaping (UnsafeMutablePointer<Double>, Int, UInt64, UInt64, UInt32, UInt32) -> Void,
         words: @escaping (UnsafeMutablePointer<UInt32>, Int, UInt64, UInt64, UInt32, UInt32) -> Void) {
        self.isa = isa
        self.normals = { normals($0, $1, $2, $3, $4, $5) }
        self.units = { units($0, $1, $2, $3, $4, $5) }
        self.words = { words($0, $1, $2, $3, $4, $5) }
    }

    static let portable = RandomStreamKernels(
        isa: "portable",
        normals: { portablePhiloxNormals($0, groups: $1, counter: $2, high: $3, k0: $4, k1: $5) },
        units: { portablePhiloxUnits($0, groups: $1, counter: $2, high: $3, k0: $4, k1: $5) },
        words: { portablePhiloxWords($0, groups: $1, counter: $2, high: $3, k0: $4, k1: $5) })

    /// The instance of the kernel set in use (`KernelSet.current`, `STALWART_ISA` honoured).
    public static var current: RandomStreamKernels { KernelSet.current.streams }
    /// Every instance this CPU can run (for tests).
    public static var supported: [RandomStreamKernels] { KernelSet.supported.map(\.streams) }
}

/// The float64 filter rows of the blur corruptions (scripts/isa_templates/filter_rows.swift):
/// every ISA instance sums each element in the same order with separate multiply and add, so
/// all return the same bits. Callers own and size every buffer. Thread-safe.
public struct FilterRowKernels: @unchecked Sendable {
    /// `o[j] = Σ_t src[t][j]·w[t]`, j < n, taps in order: (o, src, w, taps, n).
    public typealias WeightedSum = (_ o: UnsafeMutablePointer<Double>, _ src: UnsafePointer<UnsafePointer<Double>>,
                                    _ w: UnsafePointer<Double>, _ taps: Int, _ n: Int) -> Void
    /// `o[j] = c[j]·k[0] + Σ_{d=r…1} (left[d][j] + right[d][j])·k[d]`: (o, c, left, right, k, r, n).
    public typealias Symmetric = (_ o: UnsafeMutablePointer<Double>, _ c: UnsafePointer<Double>,
                                  _ left: UnsafePointer<UnsafePointer<Double>>, _ right: UnsafePointer<UnsafePointer<Double>>,
                                  _ k: UnsafePointer<Double>, _ r: Int, _ n: Int) -> Void
    public let isa: String
    public let weightedSum: WeightedSum
    public let symmetric: Symmetric

    init(isa: String, weightedSum: @escaping WeightedSum, symmetric: @escaping Symmetric) {
        self.isa = isa; self.weightedSum = weightedSum; self.symmetric = symmetric
    }

    static let portable = FilterRowKernels(
        isa: "portable", weightedSum: { portableWeightedSumRowF64($0, $1, $2, taps: $3, n: $4) },
        symmetric: { portableSymmetricRowF64($0, $1, $2, $3, $4, r: $5, n: $6) })

    /// The instance of the kernel set in use (`STALWART_ISA` honoured).
    public static var current: FilterRowKernels { KernelSet.current.filterRows }
    /// Every instance this CPU can run (for tests).
    public static var supported: [FilterRowKernels] { KernelSet.supported.map(\.filterRows) }
}

/// Depthwise convolution over blocks of 16 interleaved channels and the layout changes around
/// it (scripts/isa_templates/depthwise_c16.swift; see `DepthwiseBlocked`), whose transposition
/// back to NCHW the pixel-rows path shares. Thread-safe.
struct DepthwiseC16Kernels: @unchecked Sendable {
    /// src [rows][cols][16] zero-padded window, weights [kh·kw][16], bias [16] → dst [oh][ow][16];
    /// activation codes 1 and 2 only.
    typealias Conv = (_ src: UnsafePointer<Float>, _ cols: Int, _ sh: Int, _ sw: Int, _ kh: Int, _ kw: Int,
                      _ dh: Int, _ dw: Int, _ weights: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
                      _ oh: Int, _ ow: Int, _ dst: UnsafeMutablePointer<Float>, _ act: Int, _ p0: Float,
                      _ p1: Float) -> Void
    /// dst[x·16 + c] = src[c·planeStride + x], x < count, c < nc (other lanes 0).
    typealias Interleave = (_ src: UnsafePointer<Float>, _ planeStride: Int, _ nc: Int, _ count: Int,
                            _ dst: UnsafeMutablePointer<Float>) -> Void
    /// dst[c·dstStride + p] = act(src[p·srcStride + c] (+ bias[c]) (+ residual[c·dstStride + p])),
    /// c < nc ≤ 16, p < count, rows read 16 floats wide; activation codes 1 and 2 only.
    typealias TransposeOut = (_ src: UnsafePointer<Float>, _ srcStride: Int, _ nc: Int, _ count: Int,
                              _ dst: UnsafeMutablePointer<Float>, _ dstStride: Int, _ bias: UnsafePointer<Float>?,
                              _ residual: UnsafePointer<Float>?, _ act: Int, _ p0: Float, _ p1: Float) -> Void
    /// One output row of a max pool over a block (see `avx512MaxPoolRowC16`): (src, w, h0, hlo,
    /// hhi, dh, dw, column table, outW, dst).
    typealias MaxPoolRow = (_ src: UnsafePointer<Float>, _ w: Int, _ h0: Int, _ hlo: Int, _ hhi: Int, _ dh: Int,
                            _ dw: Int, _ cols: UnsafePointer<Int>, _ outW: Int, _ dst: UnsafeMutablePointer<Float>) -> Void
    let conv: Conv
    let interleave: Interleave
    let transposeOut: TransposeOut
    let maxPoolRow: MaxPoolRow

    init(conv: @escaping Conv, interleave: @escaping Interleave, transposeOut: @escaping TransposeOut,
         maxPoolRow: @escaping (UnsafePointer<Float>, Int, Int, Int, Int, Int, Int, UnsafePointer<Int>, Int,
                                UnsafeMutablePointer<Float>) -> Void) {
        self.conv = conv; self.interleave = interleave; self.transposeOut = transposeOut
        self.maxPoolRow = { maxPoolRow($0, $1, $2, $3, $4, $5, $6, $7, $8, $9) }
    }

    static let portable = DepthwiseC16Kernels(conv: portableDepthwiseC16, interleave: portableInterleaveC16,
                                              transposeOut: portableTransposeOut16, maxPoolRow: portableMaxPoolRowC16)
}

/// NCHWc direct convolution over runs of output pixels (generated by
/// scripts/generate_isa_kernels.py, `gen_nchwc`; see `avx512ConvNchwc` for the layouts and
/// `BlockedConv` for the caller). Thread-safe.
struct NchwcConvKernels: @unchecked Sendable {
    typealias Run = (_ pixels: Int, _ blocks: Int, _ taps: Int, _ planar: Bool, _ offsets: UnsafePointer<Int>,
                     _ src: UnsafePointer<Float>, _ weights: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
                     _ dstBlockStride: Int, _ bias: UnsafePointer<Float>, _ residual: UnsafePointer<Float>?,
                     _ act: Int, _ p0: Float, _ p1: Float) -> Void
    /// Output blocks of 16 channels per packed weight group (the last group may hold fewer).
    let groupBlocks: Int
    /// Output pixels per register tile.
    let tilePixels: Int
    let run: Run

    init(groupBlocks: Int, tilePixels: Int, run: @escaping (Int, Int, Int, Bool, UnsafePointer<Int>, UnsafePointer<Float>,
                                                            UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int,
                                                            UnsafePointer<Float>, UnsafePointer<Float>?, Int, Float, Float) -> Void) {
        self.groupBlocks = groupBlocks; self.tilePixels = tilePixels
        self.run = { run($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) }
    }

    static let portable = NchwcConvKernels(
        groupBlocks: portableNchwcGroupBlocks, tilePixels: portableNchwcTilePixels,
        run: { portableConvNchwc(pixels: $0, blocks: $1, taps: $2, planar: $3, offsets: $4, src: $5, weights: $6, dst: $7,
                                 dstBlockStride: $8, bias: $9, residual: $10, act: $11, p0: $12, p1: $13) })
}

/// Winograd F(2×2, 3×3) transforms of one row of tiles of one 16-channel block (generated from
/// scripts/isa_templates/winograd_c16.swift; see `avx512WinogradInputRowC16` and
/// `avx512WinogradOutputRowC16` for the layouts, `WinogradConv` for the caller). Thread-safe.
struct WinogradC16Kernels: @unchecked Sendable {
    /// (plane, h, w, y0, x0, tiles, dst, posStride): V = Bᵀ d B of tiles at (y0, x0 + 2j).
    typealias InputRow = (_ plane: UnsafePointer<Float>, _ h: Int, _ w: Int, _ y0: Int, _ x0: Int, _ tiles: Int,
                          _ dst: UnsafeMutablePointer<Float>, _ posStride: Int) -> Void
    /// (src, posStride, tiles, bias, residual, dst, oh, ow, y0, act, p0, p1): Y = Aᵀ M A + bias.
    typealias OutputRow = (_ src: UnsafePointer<Float>, _ posStride: Int, _ tiles: Int, _ bias: UnsafePointer<Float>,
                           _ residual: UnsafePointer<Float>?, _ dst: UnsafeMutablePointer<Float>, _ oh: Int, _ ow: Int,
                           _ y0: Int, _ act: Int, _ p0: Float, _ p1: Float) -> Void
    let inputRow: InputRow
    let outputRow: OutputRow

    init(inputRow: @escaping (UnsafePointer<Float>, Int, Int, Int, Int, Int, UnsafeMutablePointer<Float>, Int) -> Void,
         outputRow: @escaping (UnsafePointer<Float>, Int, Int, UnsafePointer<Float>, UnsafePointer<Float>?,
                               UnsafeMutablePointer<Float>, Int, Int, Int, Int, Float, Float) -> Void) {
        self.inputRow = { inputRow($0, $1, $2, $3, $4, $5, $6, $7) }
        self.outputRow = { outputRow($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) }
    }

    static let portable = WinogradC16Kernels(inputRow: portableWinogradInputRowC16, outputRow: portableWinogradOutputRowC16)
}

/// One pass over a row of float32 scores for the metrics (scripts/isa_templates/row_stats.swift):
/// (row, k, label, logits) → (valid, argmax, rank of the label, max, Σ e^(z−max), Σ e^(2(z−max))).
/// Same bits on every ISA. Thread-safe.
public struct ScoreRowKernels: @unchecked Sendable {
    public typealias Stats = (_ row: UnsafePointer<Float>, _ k: Int, _ label: Int, _ logits: Bool)
        -> (valid: Bool, argmax: Int, rank: Int, max: Float, sumExp: Double, sumExp2: Double)
    public let isa: String
    public let stats: Stats

    init(isa: String, stats: @escaping Stats) { self.isa = isa; self.stats = stats }

    static let portable = ScoreRowKernels(isa: "portable", stats: { portableScoreRowStats($0, $1, $2, $3) })

    /// The instance of the kernel set in use (`STALWART_ISA` honoured).
    public static var current: ScoreRowKernels { KernelSet.current.scoreRows }
    /// Every instance this CPU can run (for tests).
    public static var supported: [ScoreRowKernels] { KernelSet.supported.map(\.scoreRows) }
}

/// The ISA versions of Pillow's two 8-bit resampling passes, for StalwartPreprocess's `Resize`
/// (which keeps its portable loops for the generic set and tests them against these).
///
/// Both compute, per output byte, `clamp((2²¹ + Σ_t pixel_t · fixed_t) >> 22, 0, 255)` in
/// wrapping 32-bit integer arithmetic over the taps `first[o] …` (`count[o]` of them; row `o`
/// of `fixed` is `taps` long), which is exact in any order: results equal Pillow's bit for bit.
/// Callers own every buffer and validate every size; nothing is checked here.
public struct Resample8Kernels: @unchecked Sendable {
    /// "avx512" or "avx2".
    public let isa: String
    /// Vertical pass: output row `y` (of `outSize`) from `src` rows `first[y] − rowOffset …`
    /// (`srcStride` bytes apart), over `rowBytes` (≥ 16) bytes; rows of `dst` `dstStride` apart.
    public let vertical: (_ src: UnsafePointer<UInt8>, _ srcStride: Int, _ rowOffset: Int, _ rowBytes: Int,
                          _ outSize: Int, _ taps: Int, _ first: UnsafePointer<Int32>, _ count: UnsafePointer<Int32>,
                          _ fixed: UnsafePointer<Int32>, _ dst: UnsafeMutablePointer<UInt8>, _ dstStride: Int) -> Void
    /// Horizontal pass over 3- or 4-channel rows `rowStart ..< rowStart + rows` of `src`
    /// (`srcStride` bytes apart, `srcHeight` rows in the buffer); output `x` reads pixels
    /// `first[x] − columnOffset …`; `dst` gets `rows` rows of `outSize` pixels, contiguous.
    public let horizontal: (_ src: UnsafePointer<UInt8>, _ srcStride: Int, _ srcHeight: Int, _ channels: Int,
                            _ rowStart: Int, _ rows: Int, _ columnOffset: Int, _ outSize: Int, _ taps: Int,
                            _ first: UnsafePointer<Int32>, _ count: UnsafePointer<Int32>, _ fixed: UnsafePointer<Int32>,
                            _ dst: UnsafeMutablePointer<UInt8>) -> Void

    /// The passes of the kernel set in use (`KernelSet.current`, `STALWART_ISA` honoured), or
    /// nil on the generic set.
    public static var current: Resample8Kernels? { KernelSet.current.resample8 }

    /// The passes of every ISA this CPU supports (for tests).
    public static var supported: [Resample8Kernels] { KernelSet.supported.compactMap(\.resample8) }
}

/// The row kernels of defocus_blur's decomposed disk filter (scripts/isa_templates/filter_rows.swift,
/// "defocus_blur rows"): integer parts exact, float64 sums with separate multiply and add in a
/// fixed order, so every ISA instance returns the same bits. Callers own and size every buffer;
/// nothing is checked here. Thread-safe.
public struct DefocusRowKernels: @unchecked Sendable {
    /// `d[i] = s[i] &+ b[i]` (wrapping): (d, s, b, n).
    public typealias AddRow = (_ d: UnsafeMutablePointer<UInt16>, _ s: UnsafePointer<UInt16>,
                               _ b: UnsafePointer<UInt16>, _ n: Int) -> Void
    /// `d[i] = Double(b[i])`: (d, b, n).
    public typealias ToDoubles = (_ d: UnsafeMutablePointer<Double>, _ b: UnsafePointer<UInt16>, _ n: Int) -> Void
    /// `o[j] = Σ_t hi[t][j] &− lo[t][j]` in wrapping UInt16: (o, lo, hi, taps, n).
    public typealias DiskRow = (_ o: UnsafeMutablePointer<UInt16>, _ lo: UnsafePointer<UnsafePointer<UInt16>>,
                                _ hi: UnsafePointer<UnsafePointer<UInt16>>, _ taps: Int, _ n: Int) -> Void
    /// `o[j] = scale · Double(a[j] + b[j])`, b read only when `hasB`: (o, a, b, hasB, scale, n).
    public typealias ScaleRow = (_ o: UnsafeMutablePointer<Double>, _ a: UnsafePointer<UInt16>, _ b: UnsafePointer<UInt16>,
                                 _ hasB: Bool, _ scale: Double, _ n: Int) -> Void
    /// `o[j] = np.uint8(clip(Σ_g w[g]·Σ_{t ∈ group g} src[t][j], 0, 1)·255)`, group g being the
    /// next `counts[g]` rows, in order: (o, src, w, counts, groups, n).
    public typealias WeightedBytes = (_ o: UnsafeMutablePointer<UInt8>, _ src: UnsafePointer<UnsafePointer<Double>>,
                                      _ w: UnsafePointer<Double>, _ counts: UnsafePointer<Int>, _ groups: Int, _ n: Int) -> Void
    /// "avx512", "avx2" or "portable".
    public let isa: String
    public let addRow: AddRow
    public let toDoubles: ToDoubles
    public let diskRow: DiskRow
    public let scaleRow: ScaleRow
    public let weightedBytes: WeightedBytes

    static func make(_ isa: KernelISA) -> DefocusRowKernels {
        switch isa {
        case .avx512:
            return DefocusRowKernels(
                isa: "avx512", addRow: { avx512DefocusAddRowU16($0, $1, $2, n: $3) },
                toDoubles: { avx512DefocusU16ToF64Row($0, $1, n: $2) },
                diskRow: { avx512DefocusDiskRowU16($0, $1, $2, taps: $3, n: $4) },
                scaleRow: { avx512DefocusScaleRowF64($0, $1, $2, hasB: $3, scale: $4, n: $5) },
                weightedBytes: { avx512DefocusWeightedBytesRowF64($0, $1, $2, counts: $3, groups: $4, n: $5) })
        case .avx2:
            return DefocusRowKernels(
                isa: "avx2", addRow: { avx2DefocusAddRowU16($0, $1, $2, n: $3) },
                toDoubles: { avx2DefocusU16ToF64Row($0, $1, n: $2) },
                diskRow: { avx2DefocusDiskRowU16($0, $1, $2, taps: $3, n: $4) },
                scaleRow: { avx2DefocusScaleRowF64($0, $1, $2, hasB: $3, scale: $4, n: $5) },
                weightedBytes: { avx2DefocusWeightedBytesRowF64($0, $1, $2, counts: $3, groups: $4, n: $5) })
        case .generic:
            return DefocusRowKernels(
                isa: "portable", addRow: { portableDefocusAddRowU16($0, $1, $2, n: $3) },
                toDoubles: { portableDefocusU16ToF64Row($0, $1, n: $2) },
                diskRow: { portableDefocusDiskRowU16($0, $1, $2, taps: $3, n: $4) },
                scaleRow: { portableDefocusScaleRowF64($0, $1, $2, hasB: $3, scale: $4, n: $5) },
                weightedBytes: { portableDefocusWeightedBytesRowF64($0, $1, $2, counts: $3, groups: $4, n: $5) })
        }
    }

    /// The instance of the kernel set in use (`KernelSet.current`, `STALWART_ISA` honoured).
    public static let current = make(KernelSet.current.isa)
    /// Every instance this CPU can run, the portable one included (for tests).
    public static var supported: [DefocusRowKernels] { KernelSet.supported.map { make($0.isa) } }
}

/// The row kernels of gaussian_blur / glass_blur (scripts/isa_templates/gaussian_rows.swift):
/// SciPy's separable float64 Gaussian, every output accumulated in SciPy's order with separate
/// multiply and add, so every ISA instance returns the same bits. Callers own and size every
/// buffer; nothing is checked here. Thread-safe.
public struct GaussianRowKernels: @unchecked Sendable {
    /// `d[i] = Double(s[i]) / 255` via fused multiply-adds with `inv` = 1/255: (d, s, inv, n).
    public typealias UnitRow = (_ d: UnsafeMutablePointer<Double>, _ s: UnsafePointer<UInt8>, _ inv: Double, _ n: Int) -> Void
    /// Vertical pass of `rows` rows from `rows + 2r` source rows: (o, s, k, r, rows, n).
    public typealias Columns = (_ o: UnsafePointer<UnsafeMutablePointer<Double>>, _ s: UnsafePointer<UnsafePointer<Double>>,
                                _ k: UnsafePointer<Double>, _ r: Int, _ rows: Int, _ n: Int) -> Void
    /// Horizontal pass, taps `step` apart, stored as `np.uint8(clip(v, 0, 1)·255)`: (o, c, k, r, step, n).
    public typealias RowBytes = (_ o: UnsafeMutablePointer<UInt8>, _ c: UnsafePointer<Double>, _ k: UnsafePointer<Double>,
                                 _ r: Int, _ step: Int, _ n: Int) -> Void
    /// "avx512", "avx2" or "portable".
    public let isa: String
    public let unitRow: UnitRow
    public let columns: Columns
    public let rowBytes: RowBytes

    static func make(_ isa: KernelISA) -> GaussianRowKernels {
        switch isa {
        case .avx512:
            return GaussianRowKernels(
                isa: "avx512", unitRow: { avx512GaussianUnitRowF64($0, $1, inv: $2, n: $3) },
                columns: { avx512GaussianColumnsF64($0, $1, $2, r: $3, rows: $4, n: $5) },
                rowBytes: { avx512GaussianRowBytesF64($0, $1, $2, r: $3, step: $4, n: $5) })
        case .avx2:
            return GaussianRowKernels(
                isa: "avx2", unitRow: { avx2GaussianUnitRowF64($0, $1, inv: $2, n: $3) },
                columns: { avx2GaussianColumnsF64($0, $1, $2, r: $3, rows: $4, n: $5) },
                rowBytes: { avx2GaussianRowBytesF64($0, $1, $2, r: $3, step: $4, n: $5) })
        case .generic:
            return GaussianRowKernels(
                isa: "portable", unitRow: { portableGaussianUnitRowF64($0, $1, inv: $2, n: $3) },
                columns: { portableGaussianColumnsF64($0, $1, $2, r: $3, rows: $4, n: $5) },
                rowBytes: { portableGaussianRowBytesF64($0, $1, $2, r: $3, step: $4, n: $5) })
        }
    }

    /// The instance of the kernel set in use (`KernelSet.current`, `STALWART_ISA` honoured).
    public static let current = make(KernelSet.current.isa)
    /// Every instance this CPU can run, the portable one included (for tests).
    public static var supported: [GaussianRowKernels] { KernelSet.supported.map { make($0.isa) } }
}

/// The final blend rows of fog, snow and frost (scripts/isa_templates/weather_rows.swift): the
/// scalar formulas' IEEE operations in the same order, so every ISA instance returns the same
/// bytes. Rows are interleaved RGB; callers own and size every buffer. Thread-safe.
public struct WeatherRowKernels: @unchecked Sendable {
    /// fog: (o, s, plasma row, lo, hi, c0, maxVal, den, pixels).
    public typealias FogRow = (_ o: UnsafeMutablePointer<UInt8>, _ s: UnsafePointer<UInt8>, _ pl: UnsafePointer<Double>,
                               _ lo: Double, _ hi: Double, _ c0: Double, _ maxVal: Double, _ den: Double, _ n: Int) -> Void
    /// frost: (o, s, texture crop, c0, c1, bytes).
    public typealias FrostRow = (_ o: UnsafeMutablePointer<UInt8>, _ s: UnsafePointer<UInt8>, _ t: UnsafePointer<UInt8>,
                                 _ c0: Double, _ c1: Double, _ n: Int) -> Void
    /// snow: (o, s, add row, mirrored row (read reversed), a, b, pixels).
    public typealias SnowRow = (_ o: UnsafeMutablePointer<UInt8>, _ s: UnsafePointer<UInt8>, _ add: UnsafePointer<Double>,
                                _ rot: UnsafePointer<Double>, _ a: Float, _ b: Float, _ n: Int) -> Void
    /// "avx512", "avx2" or "portable".
    public let isa: String
    public let fogRow: FogRow
    public let frostRow: FrostRow
    public let snowRow: SnowRow
    /// `o[i] = o[i] + k·s[i]`: (o, s, k, n).
    public let axpyRow: (_ o: UnsafeMutablePointer<Double>, _ s: UnsafePointer<Double>, _ k: Double, _ n: Int) -> Void
    /// (min, max) of n finite doubles.
    public let minMax: (_ p: UnsafePointer<Double>, _ n: Int) -> (Double, Double)

    static func make(_ isa: KernelISA) -> WeatherRowKernels {
        switch isa {
        case .avx512:
            return WeatherRowKernels(
                isa: "avx512",
                fogRow: { avx512FogBlendRow($0, $1, $2, lo: $3, hi: $4, c0: $5, maxVal: $6, den: $7, n: $8) },
                frostRow: { avx512FrostBlendRow($0, $1, $2, c0: $3, c1: $4, n: $5) },
                snowRow: { avx512SnowBlendRow($0, $1, $2, $3, a: $4, b: $5, n: $6) },
                axpyRow: { avx512WeatherAxpyRow($0, $1, k: $2, n: $3) },
                minMax: { avx512WeatherMinMax($0, n: $1) })
        case .avx2:
            return WeatherRowKernels(
                isa: "avx2",
                fogRow: { avx2FogBlendRow($0, $1, $2, lo: $3, hi: $4, c0: $5, maxVal: $6, den: $7, n: $8) },
                frostRow: { avx2FrostBlendRow($0, $1, $2, c0: $3, c1: $4, n: $5) },
                snowRow: { avx2SnowBlendRow($0, $1, $2, $3, a: $4, b: $5, n: $6) },
                axpyRow: { avx2WeatherAxpyRow($0, $1, k: $2, n: $3) },
                minMax: { avx2WeatherMinMax($0, n: $1) })
        case .generic:
            return WeatherRowKernels(
                isa: "portable",
                fogRow: { portableFogBlendRow($0, $1, $2, lo: $3, hi: $4, c0: $5, maxVal: $6, den: $7, n: $8) },
                frostRow: { portableFrostBlendRow($0, $1, $2, c0: $3, c1: $4, n: $5) },
                snowRow: { portableSnowBlendRow($0, $1, $2, $3, a: $4, b: $5, n: $6) },
                axpyRow: { portableWeatherAxpyRow($0, $1, k: $2, n: $3) },
                minMax: { portableWeatherMinMax($0, n: $1) })
        }
    }

    /// The instance of the kernel set in use (`KernelSet.current`, `STALWART_ISA` honoured).
    public static let current = make(KernelSet.current.isa)
    /// Every instance this CPU can run, the portable one included (for tests).
    public static var supported: [WeatherRowKernels] { KernelSet.supported.map { make($0.isa) } }
}

/// The row kernels of SI-Score compositing and of the RGBA resize (scripts/isa_templates/
/// siscore_rows.swift): Pillow's premultiply / unpremultiply (`rgbA2rgba` / `rgba2rgbA`), the
/// bicubic affine transform of `Image.rotate(angle, BICUBIC)` on premultiplied RGBA and the
/// alpha paste. Integer steps are exact; the bicubic evaluates Pillow's double expression
/// lane-wise in Pillow's order (separate multiply and add), so every ISA instance returns
/// Pillow's bytes. Callers own and size every buffer; nothing is checked here. Thread-safe.
public struct CompositeRowKernels: @unchecked Sendable {
    /// RGBA ⇄ RGBa of `n` pixels: (dst, src, n); dst may equal src.
    public typealias AlphaRow = (_ d: UnsafeMutablePointer<UInt8>, _ s: UnsafePointer<UInt8>, _ n: Int) -> Void
    /// Row pairs for `bicubicRows`: `d[x] = a[x] | b[x] << 32` (8 bytes per pixel): (d, a, b, n).
    public typealias InterleaveRows = (_ d: UnsafeMutablePointer<UInt8>, _ a: UnsafePointer<UInt8>,
                                       _ b: UnsafePointer<UInt8>, _ n: Int) -> Void
    /// Rows `y0..<y1` of the bicubic affine transform: (dst, outWidth, y0, y1, padded row pairs
    /// at pixel (0, 0), pair-row stride in bytes, src width, src height, 6 coefficients).
    public typealias BicubicRows = (_ dst: UnsafeMutablePointer<UInt8>, _ outWidth: Int, _ y0: Int, _ y1: Int,
                                    _ src: UnsafePointer<UInt8>, _ stride: Int, _ width: Int, _ height: Int,
                                    _ m: UnsafePointer<Double>) -> Void
    /// Pillow's 8-bit horizontal resampling pass over RGBA rows, 4 taps per vector:
    /// (src, srcStride, srcEnd, rowStart, rows, columnOffset, outSize, quads, first, count,
    /// quadWeights, dst); see `scripts/isa_templates/siscore_rows.swift`.
    public typealias HorizontalRGBA = (_ src: UnsafePointer<UInt8>, _ srcStride: Int, _ srcEnd: UnsafePointer<UInt8>,
                                       _ rowStart: Int, _ rows: Int, _ columnOffset: Int, _ outSize: Int, _ quads: Int,
                                       _ first: UnsafePointer<Int32>, _ count: UnsafePointer<Int32>,
                                       _ quadWeights: UnsafePointer<Int32>, _ dst: UnsafeMutablePointer<UInt8>) -> Void
    /// Alpha paste of `n` RGBA pixels onto `n` RGB pixels: (bg, fg, n).
    public typealias PasteRow = (_ bg: UnsafeMutablePointer<UInt8>, _ fg: UnsafePointer<UInt8>, _ n: Int) -> Void
    /// "avx512", "avx2" or "portable".
    public let isa: String
    public let premultiply: AlphaRow
    public let unpremultiply: AlphaRow
    public let interleaveRows: InterleaveRows
    public let bicubicRows: BicubicRows
    public let pasteRow: PasteRow
    public let horizontalRGBA: HorizontalRGBA

    static func make(_ isa: KernelISA) -> CompositeRowKernels {
        switch isa {
        case .avx512:
            return CompositeRowKernels(
                isa: "avx512", premultiply: { avx512SIScorePremultiplyRow($0, $1, $2) },
                unpremultiply: { avx512SIScoreUnpremultiplyRow($0, $1, $2) },
                interleaveRows: { avx512SIScoreInterleaveRows($0, $1, $2, $3) },
                bicubicRows: { avx512SIScoreBicubicRowsRGBA($0, $1, $2, $3, $4, $5, $6, $7, $8) },
                pasteRow: { avx512SIScorePasteRowRGBA($0, $1, $2) },
                horizontalRGBA: { avx512ResampleHorizontalRGBAQuads($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) })
        case .avx2:
            return CompositeRowKernels(
                isa: "avx2", premultiply: { avx2SIScorePremultiplyRow($0, $1, $2) },
                unpremultiply: { avx2SIScoreUnpremultiplyRow($0, $1, $2) },
                interleaveRows: { avx2SIScoreInterleaveRows($0, $1, $2, $3) },
                bicubicRows: { avx2SIScoreBicubicRowsRGBA($0, $1, $2, $3, $4, $5, $6, $7, $8) },
                pasteRow: { avx2SIScorePasteRowRGBA($0, $1, $2) },
                horizontalRGBA: { avx2ResampleHorizontalRGBAQuads($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) })
        case .generic:
            return CompositeRowKernels(
                isa: "portable", premultiply: { portableSIScorePremultiplyRow($0, $1, $2) },
                unpremultiply: { portableSIScoreUnpremultiplyRow($0, $1, $2) },
                interleaveRows: { portableSIScoreInterleaveRows($0, $1, $2, $3) },
                bicubicRows: { portableSIScoreBicubicRowsRGBA($0, $1, $2, $3, $4, $5, $6, $7, $8) },
                pasteRow: { portableSIScorePasteRowRGBA($0, $1, $2) },
                horizontalRGBA: { portableResampleHorizontalRGBAQuads($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) })
        }
    }

    /// The instance of the kernel set in use (`KernelSet.current`, `STALWART_ISA` honoured).
    public static let current = make(KernelSet.current.isa)
    /// Every instance this CPU can run, the portable one included (for tests).
    public static var supported: [CompositeRowKernels] { KernelSet.supported.map { make($0.isa) } }
}
