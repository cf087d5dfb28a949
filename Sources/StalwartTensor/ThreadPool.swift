import CStalwartCPU
import Glibc
import Synchronization

/// A fixed set of worker threads for the engine's data-parallel loops.
///
/// Workers spin for about 200 µs after each loop (so back-to-back kernels start without a
/// wake-up), then park on a condition variable; an idle pool burns no CPU.
///
/// Thread-safety: `parallelFor` may be called from many threads at once. One loop at a time
/// owns the workers; a call made while they are busy (from another thread, or re-entrantly
/// from inside a loop body) runs its whole loop inline on the calling thread. Either way it
/// returns only when every iteration is done. Workers are joined in `deinit`.
public final class ThreadPool: @unchecked Sendable {
    /// Number of threads a loop is spread over, including the calling thread (≥ 1).
    public let threadCount: Int
    private let state: PoolState

    /// `threads` = 0 (or negative) means one per available core.
    public init(threads: Int) {
        let n = threads <= 0 ? ThreadPool.availableCores : min(threads, 1024)
        self.state = PoolState(slots: n)
        // Workers are detached pthreads (no Foundation); deinit waits until each has exited.
        var started = 1
        for w in 1..<max(n, 1) {
            let start = Unmanaged.passRetained(WorkerStart(state: state, slot: w)).toOpaque()
            var tid = pthread_t()
            let rc = pthread_create(&tid, nil, { arg in
                guard let arg else { return nil }
                let start = Unmanaged<WorkerStart>.fromOpaque(arg).takeRetainedValue()
                swcpu_set_thread_name("stalwart-\(start.slot)")
                start.state.workerLoop(slot: start.slot)
                return nil
            }, start)
            guard rc == 0 else {
                // Could not start more threads: run with those we have.
                Unmanaged<WorkerStart>.fromOpaque(start).release()
                break
            }
            pthread_detach(tid)
            started += 1
        }
        self.threadCount = started
    }

    deinit {
        let workers = threadCount - 1
        guard workers > 0 else { return }
        state.shutdown.store(true, ordering: .sequentiallyConsistent)
        state.wakeAll()
        // Join: every worker counts itself out before it returns.
        var spins = 0
        while state.exited.load(ordering: .acquiring) < workers {
            spins += 1
            if spins < 1000 { swcpu_pause() } else { sched_yield() }
        }
    }

    /// Cores this process may run on (its CPU affinity mask), at least 1.
    public static var availableCores: Int { Int(swcpu_available_cores()) }

    /// Runs `body(i)` for every i in 0..<count, spread over the pool; returns when all are done.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        parallelForSlotted(count) { i, _ in body(i) }
    }

    /// Like `parallelFor`, and also passes the *slot* of the thread running the iteration:
    /// a number in 0..<threadCount that no other concurrently running iteration of this call
    /// has. Kernels use it to index per-thread scratch.
    func parallelForSlotted(_ count: Int, _ body: (_ index: Int, _ slot: Int) -> Void) {
        if count <= 0 { return }
        if threadCount == 1 || count == 1 || !state.tryAcquire() {
            for i in 0..<count { body(i, 0) }
            return
        }
        withoutActuallyEscaping(body) { b in
            // Home ranges hold 31-bit bounds: longer loops run as successive parts.
            var first = 0
            while first < count {
                let n = min(count - first, HomeRange.limit - 1), base = first
                var job = PoolJob(body: base == 0 ? b : { i, slot in b(base + i, slot) })
                withUnsafePointer(to: &job) { p in state.run(job: p, count: n, threads: threadCount) }
                first += n
            }
        }
        state.release()
    }
}

/// What a new worker thread needs: the shared state and its slot number.
final class WorkerStart {
    let state: PoolState
    let slot: Int
    init(state: PoolState, slot: Int) { self.state = state; self.slot = slot }
}

/// The loop a pool is running; lives on the caller's stack for the duration of the loop.
struct PoolJob {
    let body: (Int, Int) -> Void
}

/// 64 bytes that keep other data off a neighbouring atomic's cache line.
struct CacheLinePad {
    var words: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)
}

/// One thread's home range of a loop's iterations, `begin | end << 32`, alone on its cache
/// line: its owner claims from the front, a thread that has run out steals from the back.
final class HomeRange: @unchecked Sendable {
    private let before = CacheLinePad()
    let bounds = Atomic<Int>(0)
    private let after = CacheLinePad()

    /// Bounds are 31-bit: loops at least this long run as successive parts.
    static let limit = 1 << 31

    func set(_ begin: Int, _ end: Int) { bounds.store(begin | end << 32, ordering: .relaxed) }

    /// The first unclaimed iteration, or nil when none is left.
    @inline(__always)
    func takeFront() -> Int? { take(fromBack: false) }

    /// The last unclaimed iteration, or nil when none is left.
    @inline(__always)
    func takeBack() -> Int? { take(fromBack: true) }

    @inline(__always)
    private func take(fromBack back: Bool) -> Int? {
        var cur = bounds.load(ordering: .relaxed)
        while true {
            let b = cur & 0xFFFF_FFFF, e = cur >> 32
            if b >= e { return nil }
            let next = back ? cur - (1 << 32) : cur + 1
            let (done, seen) = bounds.compareExchange(expected: cur, desired: next, ordering: .relaxed)
            if done { return back ? e - 1 : b }
            cur = seen
        }
    }
}

/// What the caller publishes for a loop, on one cache line so that a worker picks it all up
/// in one transfer.
final class PublishedJob: @unchecked Sendable {
    private let before = CacheLinePad()
    let generation = Atomic<Int>(0)
    let openJob = Atomic<Int>(0)
    let threads = Atomic<Int>(0)
    let address = Atomic<Int>(0)
    private let after = CacheLinePad()
}

/// Counters every thread writes once or twice per loop.
final class LoopTally: @unchecked Sendable {
    private let before = CacheLinePad()
    let active = Atomic<Int>(0)
    let completed = Atomic<Int>(0)
    private let after = CacheLinePad()
}

/// Shared by the pool object and its worker threads (the threads never see the pool, so the
/// pool's deinit runs when its last user lets go).
///
/// Scheduling: each thread of a loop of n iterations over T threads owns the home range
/// [s·n/T, (s+1)·n/T) of its slot s and claims it front to back on its own cache line; when
/// its range is empty it steals from the back of the others'. Consecutive layers split the
/// same way, so a thread mostly reads what it wrote (kernels order their tasks so that this
/// holds), and claims cost no cross-core traffic: on this machine two vCPUs on distant cores
/// pay ≈ 400 ns per cache-line transfer, which one shared counter paid per iteration.
///
/// Protocol (all flags sequentially consistent): the caller publishes the job (pointer, thread
/// count, home ranges), sets `openJob` and `generation` to a new number g, wakes sleepers, runs its
/// range and steals, waits until `completed == count`, closes the job (`openJob = 0`) and waits
/// for `active == 0`. A worker that sees generation g increments `active` and only then checks
/// `openJob == g`; so once the caller has seen `active == 0` after closing, no worker can touch
/// the job, and the caller may return (and the job's stack memory may die).
final class PoolState: @unchecked Sendable {
    let job = PublishedJob()
    let tally = LoopTally()
    let ranges: [HomeRange]
    let busy = Atomic<Bool>(false)
    let sleepers = Atomic<Int>(0)
    let shutdown = Atomic<Bool>(false)
    let exited = Atomic<Int>(0)
    let mutex: UnsafeMutablePointer<pthread_mutex_t>
    let cond: UnsafeMutablePointer<pthread_cond_t>

    /// How long an idle worker spins before parking.
    static let spinNanoseconds: UInt64 = 200_000

    /// `slots`: the most threads a loop will run on.
    init(slots: Int) {
        ranges = (0..<max(slots, 1)).map { _ in HomeRange() }
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        cond = .allocate(capacity: 1)
        cond.initialize(to: pthread_cond_t())
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    func tryAcquire() -> Bool {
        busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    }

    func release() { busy.store(false, ordering: .releasing) }

    func wakeAll() {
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
    }

    /// Caller side of one loop (the caller holds `busy`); `count` < `HomeRange.limit`,
    /// 2 ≤ `threads` ≤ `ranges.count`.
    func run(job p: UnsafePointer<PoolJob>, count: Int, threads: Int) {
        for s in 0..<threads { ranges[s].set(s * count / threads, (s + 1) * count / threads) }
        tally.completed.store(0, ordering: .relaxed)
        job.threads.store(threads, ordering: .relaxed)
        job.address.store(Int(bitPattern: UnsafeRawPointer(p)), ordering: .relaxed)
        var g = job.generation.load(ordering: .relaxed) &+ 1
        if g == 0 { g = 1 }
        job.openJob.store(g, ordering: .sequentiallyConsistent)
        job.generation.store(g, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 { wakeAll() }

        runChunks(slot: 0)

        var spins = 0
        while tally.completed.load(ordering: .acquiring) < count {
            spins += 1
            if spins < 20_000 { swcpu_pause() } else { sched_yield() }
        }
        job.openJob.store(0, ordering: .sequentiallyConsistent)
        while tally.active.load(ordering: .sequentiallyConsistent) != 0 { swcpu_pause() }
    }

    /// Runs the slot's home range, then steals from the other threads' until none is left.
    @inline(never)
    func runChunks(slot: Int) {
        let threads = job.threads.load(ordering: .relaxed)
        guard slot < threads, threads <= ranges.count,
              let raw = UnsafeRawPointer(bitPattern: job.address.load(ordering: .relaxed)) else { return }
        let body = raw.assumingMemoryBound(to: PoolJob.self).pointee.body
        var done = 0
        let own = ranges[slot]
        while let i = own.takeFront() {
            body(i, slot)
            done += 1
        }
        for k in 1..<threads {
            let victim = ranges[(slot + k) % threads]
            while let i = victim.takeBack() {
                body(i, slot)
                done += 1
            }
        }
        if done > 0 { tally.completed.add(done, ordering: .releasing) }
    }

    func workerLoop(slot: Int) {
        let published = job
        // Generation 0 is the one before any loop: a worker that starts late still joins the
        // first loop (loading the generation here instead would skip it).
        var seen = 0
        while true {
            var g = published.generation.load(ordering: .acquiring)
            if g == seen {
                // Spin briefly, then park.
                let start = swcpu_now_ns()
                var spins = 0
                while g == seen && !shutdown.load(ordering: .relaxed) {
                    swcpu_pause()
                    spins += 1
                    if spins & 63 == 0,
                       swcpu_now_ns() &- start > Self.spinNanoseconds {
                        break
                    }
                    g = published.generation.load(ordering: .acquiring)
                }
                if g == seen && !shutdown.load(ordering: .relaxed) {
                    pthread_mutex_lock(mutex)
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while published.generation.load(ordering: .sequentiallyConsistent) == seen
                        && !shutdown.load(ordering: .sequentiallyConsistent) {
                        pthread_cond_wait(cond, mutex)
                    }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    pthread_mutex_unlock(mutex)
                    g = published.generation.load(ordering: .acquiring)
                }
            }
            if shutdown.load(ordering: .acquiring) { break }
            if g == seen { continue }
            seen = g
            tally.active.add(1, ordering: .sequentiallyConsistent)
            if job.openJob.load(ordering: .sequentiallyConsistent) == g {
                runChunks(slot: slot)
            }
            tally.active.subtract(1, ordering: .sequentiallyConsistent)
        }
        exited.add(1, ordering: .releasing)
    }
}
