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
        self.state = PoolState()
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
            var job = PoolJob(body: b)
            withUnsafePointer(to: &job) { p in state.run(job: p, count: count) }
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

/// Shared by the pool object and its worker threads (the threads never see the pool, so the
/// pool's deinit runs when its last user lets go).
///
/// Protocol (all flags sequentially consistent): the caller publishes the job (pointer, count,
/// next = 0), sets `openJob` and `generation` to a new number g, wakes sleepers, runs chunks
/// itself, waits until `completed == count`, closes the job (`openJob = 0`) and waits for
/// `active == 0`. A worker that sees generation g increments `active` and only then checks
/// `openJob == g`; so once the caller has seen `active == 0` after closing, no worker can touch
/// the job, and the caller may return (and the job's stack memory may die).
final class PoolState: @unchecked Sendable {
    let generation = Atomic<Int>(0)
    let openJob = Atomic<Int>(0)
    let active = Atomic<Int>(0)
    let next = Atomic<Int>(0)
    let completed = Atomic<Int>(0)
    let jobCount = Atomic<Int>(0)
    let jobAddress = Atomic<Int>(0)
    let busy = Atomic<Bool>(false)
    let sleepers = Atomic<Int>(0)
    let shutdown = Atomic<Bool>(false)
    let exited = Atomic<Int>(0)
    let mutex: UnsafeMutablePointer<pthread_mutex_t>
    let cond: UnsafeMutablePointer<pthread_cond_t>

    /// How long an idle worker spins before parking.
    static let spinNanoseconds: UInt64 = 200_000

    init() {
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

    /// Caller side of one loop (the caller holds `busy`).
    func run(job: UnsafePointer<PoolJob>, count: Int) {
        next.store(0, ordering: .relaxed)
        completed.store(0, ordering: .relaxed)
        jobCount.store(count, ordering: .relaxed)
        jobAddress.store(Int(bitPattern: UnsafeRawPointer(job)), ordering: .relaxed)
        var g = generation.load(ordering: .relaxed) &+ 1
        if g == 0 { g = 1 }
        openJob.store(g, ordering: .sequentiallyConsistent)
        generation.store(g, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 { wakeAll() }

        runChunks(slot: 0)

        var spins = 0
        while completed.load(ordering: .acquiring) < count {
            spins += 1
            if spins < 20_000 { swcpu_pause() } else { sched_yield() }
        }
        openJob.store(0, ordering: .sequentiallyConsistent)
        while active.load(ordering: .sequentiallyConsistent) != 0 { swcpu_pause() }
    }

    /// Claims iterations one at a time until none are left.
    @inline(never)
    func runChunks(slot: Int) {
        let count = jobCount.load(ordering: .relaxed)
        guard let raw = UnsafeRawPointer(bitPattern: jobAddress.load(ordering: .relaxed)) else { return }
        let job = raw.assumingMemoryBound(to: PoolJob.self)
        var done = 0
        while true {
            let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
            if i >= count { break }
            job.pointee.body(i, slot)
            done += 1
        }
        if done > 0 { completed.add(done, ordering: .releasing) }
    }

    func workerLoop(slot: Int) {
        var seen = generation.load(ordering: .acquiring)
        while true {
            var g = generation.load(ordering: .acquiring)
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
                    g = generation.load(ordering: .acquiring)
                }
                if g == seen && !shutdown.load(ordering: .relaxed) {
                    pthread_mutex_lock(mutex)
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen
                        && !shutdown.load(ordering: .sequentiallyConsistent) {
                        pthread_cond_wait(cond, mutex)
                    }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    pthread_mutex_unlock(mutex)
                    g = generation.load(ordering: .acquiring)
                }
            }
            if shutdown.load(ordering: .acquiring) { break }
            if g == seen { continue }
            seen = g
            active.add(1, ordering: .sequentiallyConsistent)
            if openJob.load(ordering: .sequentiallyConsistent) == g {
                runChunks(slot: slot)
            }
            active.subtract(1, ordering: .sequentiallyConsistent)
        }
        exited.add(1, ordering: .releasing)
    }
}
