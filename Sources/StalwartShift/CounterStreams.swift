import StalwartTensor

/// Bulk draws from a `CounterRandom` stream, in parallel chunks: the Philox blocks and their
/// transforms run in `RandomStreamKernels` (one template instantiated per ISA, same bits on
/// every CPU), eight blocks — a "group" — per SIMD step. Sample `i` of a bulk call depends only
/// on (stream key, first group, i), so the result is byte-identical for any thread count.
/// Per group: 32 normals, 32 uniforms or 32 raw words (layouts in
/// scripts/isa_templates/random_streams.swift).
extension CounterRandom {
    /// Groups per parallel chunk (16 384 normals, 64 KiB of floats).
    static let chunkGroups = 512

    /// Reserves the next `groups` groups of the stream and, for chunks of them, fills a scratch
    /// buffer of `perGroup` values with `fill` and calls `body(first, count, values)` — in
    /// parallel when there are several chunks. `body` must only write outputs of its own groups.
    func forEachChunk<T>(_ groups: Int, perGroup: Int, _ fill: RandomStreamKernels.Fill<T>,
                         _ body: (_ first: Int, _ count: Int, _ values: UnsafePointer<T>) -> Void) {
        guard groups > 0 else { return }
        let start = counter  // first block of the first group (a multiple of 8)
        counter = start &+ UInt64(groups) &* 8
        let key = self.key, high = self.high
        let chunk = CounterRandom.chunkGroups
        let chunks = (groups + chunk - 1) / chunk
        func run(_ c: Int) {
            let first = c * chunk, count = min(chunk, groups - first)
            let values = UnsafeMutablePointer<T>.allocate(capacity: perGroup * count)
            defer { values.deallocate() }
            fill(values, count, start &+ UInt64(first) &* 8, high, key.0, key.1)
            body(first, count, values)
        }
        if chunks == 1 { run(0) } else { BlurKernels.pool.parallelFor(chunks, run) }
    }

    /// Standard normals (float32, Box–Muller) for samples `0..<count` of a fresh bulk draw,
    /// handed to `body(start, z)` in chunks (`z[i]` is sample `start + i`), in parallel.
    func forEachNormalChunk(_ count: Int, _ body: (_ start: Int, _ z: UnsafeBufferPointer<Float>) -> Void) {
        forEachChunk((count + 31) / 32, perGroup: 32, RandomStreamKernels.current.normals) { first, groups, z in
            let start = 32 * first
            body(start, UnsafeBufferPointer(start: z, count: min(32 * groups, count - start)))
        }
    }

    /// Uniforms k·2⁻³² ∈ [0, 1) for samples `0..<count` of a fresh bulk draw, in chunks.
    func forEachUnitChunk(_ count: Int, _ body: (_ start: Int, _ u: UnsafeBufferPointer<Double>) -> Void) {
        forEachChunk((count + 31) / 32, perGroup: 32, RandomStreamKernels.current.units) { first, groups, u in
            let start = 32 * first
            body(start, UnsafeBufferPointer(start: u, count: min(32 * groups, count - start)))
        }
    }

    /// Raw 32-bit words `0..<count` of a fresh bulk draw, in chunks.
    func forEachWordChunk(_ count: Int, _ body: (_ start: Int, _ w: UnsafeBufferPointer<UInt32>) -> Void) {
        forEachChunk((count + 31) / 32, perGroup: 32, RandomStreamKernels.current.words) { first, groups, w in
            let start = 32 * first
            body(start, UnsafeBufferPointer(start: w, count: min(32 * groups, count - start)))
        }
    }
}
