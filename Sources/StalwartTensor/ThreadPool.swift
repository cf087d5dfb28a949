import Foundation

/// A fixed set of worker threads for the engine's data-parallel loops.
/// PLACEHOLDER (to be replaced by the spinning pool): runs loops with concurrentPerform.
/// Thread-safety: `parallelFor` may be called from many threads at once.
public final class ThreadPool: @unchecked Sendable {
    /// Number of threads a loop is spread over, including the calling thread (≥ 1).
    public let threadCount: Int

    /// `threads` = 0 means one per available core.
    public init(threads: Int) {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        self.threadCount = threads <= 0 ? max(1, cores) : threads
    }

    /// Runs `body(i)` for every i in 0..<count, spread over the pool; returns when all are done.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if threadCount == 1 || count == 1 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { b in
            DispatchQueue.concurrentPerform(iterations: count) { i in b(i) }
        }
    }
}
