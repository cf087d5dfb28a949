import Glibc
import StalwartTensor

/// A blocking FIFO of bounded capacity between producer threads and one consumer, built on a
/// pthread mutex and condition variables (no Foundation). Thread-safe.
final class BoundedQueue<T>: @unchecked Sendable {
    private var items: [T] = []
    private var head = 0
    private let capacity: Int
    private var producers: Int
    private var cancelled = false
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    /// `producers` threads will each call `producerFinished()` once.
    init(capacity: Int, producers: Int) {
        self.capacity = max(1, capacity)
        self.producers = producers
        mutex.initialize(to: pthread_mutex_t()); pthread_mutex_init(mutex, nil)
        changed.initialize(to: pthread_cond_t()); pthread_cond_init(changed, nil)
    }
    deinit {
        pthread_cond_destroy(changed); changed.deallocate()
        pthread_mutex_destroy(mutex); mutex.deallocate()
    }

    private var count: Int { items.count - head }

    /// Blocks while full; false (item dropped) once the queue is cancelled.
    func push(_ x: T) -> Bool {
        pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }
        while count >= capacity && !cancelled { pthread_cond_wait(changed, mutex) }
        if cancelled { return false }
        items.append(x)
        pthread_cond_broadcast(changed)
        return true
    }

    /// Blocks while empty; nil when every producer has finished and the queue is drained, or
    /// when it is cancelled.
    func pop() -> T? {
        pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }
        while count == 0 && producers > 0 && !cancelled { pthread_cond_wait(changed, mutex) }
        if cancelled || count == 0 { return nil }
        let x = items[head]
        head += 1
        if head > 1024 && head * 2 > items.count { items.removeFirst(head); head = 0 }
        pthread_cond_broadcast(changed)
        return x
    }

    func producerFinished() {
        pthread_mutex_lock(mutex); producers -= 1; pthread_cond_broadcast(changed); pthread_mutex_unlock(mutex)
    }

    /// Wakes everyone: pending and later pushes fail, pops return nil.
    func cancel() {
        pthread_mutex_lock(mutex); cancelled = true; pthread_cond_broadcast(changed); pthread_mutex_unlock(mutex)
    }
}

/// Runs `body(worker)` on `count` new threads; `join()` waits for all of them.
final class WorkerThreads {
    private final class Start { let body: (Int) -> Void; let index: Int; init(_ b: @escaping (Int) -> Void, _ i: Int) { body = b; index = i } }
    private var threads: [pthread_t] = []

    /// Starts up to `count` threads (fewer if the system refuses; at least... none then, and
    /// the caller runs `body(0)` itself — `started` tells).
    init(count: Int, _ body: @escaping (Int) -> Void) {
        for i in 0..<max(0, count) {
            let start = Unmanaged.passRetained(Start(body, i)).toOpaque()
            var tid = pthread_t()
            let rc = pthread_create(&tid, nil, { arg in
                guard let arg else { return nil }
                let s = Unmanaged<Start>.fromOpaque(arg).takeRetainedValue()
                s.body(s.index)
                return nil
            }, start)
            if rc != 0 { Unmanaged<Start>.fromOpaque(start).release(); break }
            threads.append(tid)
        }
    }

    var started: Int { threads.count }

    func join() {
        for t in threads { pthread_join(t, nil) }
        threads.removeAll()
    }
}

/// Wall-clock seconds (CLOCK_MONOTONIC).
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// UTC time as ISO 8601 (`2026-11-29T07:01:02Z`).
public func utcTimestamp() -> String {
    var t = time(nil)
    var parts = tm()
    gmtime_r(&t, &parts)
    var buf = [CChar](repeating: 0, count: 32)
    let n = strftime(&buf, buf.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
    return n > 0 ? String(cString: buf) : "1970-01-01T00:00:00Z"
}
