import Foundation
import Synchronization
import XCTest
@testable import StalwartTensor

final class ThreadPoolTests: XCTestCase {
    func testEveryIndexRunsOnce() {
        for threads in [1, 2, 3, 0] {
            let pool = ThreadPool(threads: threads)
            XCTAssertGreaterThanOrEqual(pool.threadCount, 1)
            for count in [0, 1, 2, 7, 1000] {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
                hits.initialize(repeating: 0, count: max(count, 1))
                pool.parallelFor(count) { i in hits[i] += 1 }
                for i in 0..<count { XCTAssertEqual(hits[i], 1, "threads \(threads) count \(count) i \(i)") }
                hits.deallocate()
            }
        }
    }

    func testSlotsAreExclusive() {
        let pool = ThreadPool(threads: 3)
        let flags = UnsafeMutablePointer<Int>.allocate(capacity: pool.threadCount)
        flags.initialize(repeating: 0, count: pool.threadCount)
        defer { flags.deallocate() }
        let bad = Atomic<Int>(0)
        for _ in 0..<50 {
            pool.parallelForSlotted(64) { _, slot in
                if slot < 0 || slot >= pool.threadCount { bad.add(1, ordering: .relaxed); return }
                flags[slot] += 1
                if flags[slot] != 1 { bad.add(1, ordering: .relaxed) }
                for _ in 0..<200 { _ = Double(slot).squareRoot() }
                flags[slot] -= 1
            }
        }
        XCTAssertEqual(bad.load(ordering: .relaxed), 0)
    }

    /// Four threads call parallelFor on one pool at once; each must see its full loop done.
    func testConcurrentCallers() {
        let pool = ThreadPool(threads: 0)
        let n = 4096
        let failures = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            let out = UnsafeMutablePointer<Int>.allocate(capacity: n)
            out.initialize(repeating: 0, count: n)
            defer { out.deallocate() }
            for round in 0..<200 {
                pool.parallelFor(n) { i in out[i] = i * 7 + caller + round }
                for i in 0..<n where out[i] != i * 7 + caller + round {
                    failures.add(1, ordering: .relaxed)
                    break
                }
            }
        }
        XCTAssertEqual(failures.load(ordering: .relaxed), 0)
    }

    func testNestedParallelFor() {
        let pool = ThreadPool(threads: 2)
        let outer = 16, inner = 64
        let out = UnsafeMutablePointer<Int>.allocate(capacity: outer * inner)
        out.initialize(repeating: 0, count: outer * inner)
        defer { out.deallocate() }
        pool.parallelFor(outer) { i in
            pool.parallelFor(inner) { j in out[i * inner + j] += i * 1000 + j }
        }
        for i in 0..<outer { for j in 0..<inner { XCTAssertEqual(out[i * inner + j], i * 1000 + j) } }
    }

    /// Pools come and go (threads joined in deinit) and idle workers park.
    func testCreateAndDestroyMany() {
        for round in 0..<20 {
            let pool = ThreadPool(threads: 3)
            var sum = 0
            let box = UnsafeMutablePointer<Int>.allocate(capacity: 100)
            pool.parallelFor(100) { i in box[i] = i }
            for i in 0..<100 { sum += box[i] }
            box.deallocate()
            XCTAssertEqual(sum, 4950, "round \(round)")
            if round % 5 == 0 { usleep(200) }  // let workers park, then wake them
            pool.parallelFor(3) { _ in }
        }
    }

    func testHomeRangeClaimsFromBothEnds() {
        let r = HomeRange()
        r.set(5, 9)
        XCTAssertEqual(r.takeFront(), 5)
        XCTAssertEqual(r.takeBack(), 8)
        XCTAssertEqual(r.takeFront(), 6)
        XCTAssertEqual(r.takeBack(), 7)
        XCTAssertNil(r.takeFront())
        XCTAssertNil(r.takeBack())
        // 31-bit bounds at the top of the range.
        r.set(HomeRange.limit - 3, HomeRange.limit - 1)
        XCTAssertEqual(r.takeBack(), HomeRange.limit - 2)
        XCTAssertEqual(r.takeFront(), HomeRange.limit - 3)
        XCTAssertNil(r.takeBack())
        r.set(3, 3)
        XCTAssertNil(r.takeFront())
    }

    /// The caller's home range (the first half) is slow: a worker that has finished its own
    /// half steals from the back of the caller's. Each slow iteration waits (≤ 50 ms) for a
    /// theft, so a pool that does not steal fails unless its worker never showed up at all.
    func testIdleThreadStealsFromBusyOne() {
        let pool = ThreadPool(threads: 2)
        XCTAssertEqual(pool.threadCount, 2)
        let n = 32
        let ranBy = UnsafeMutablePointer<Int>.allocate(capacity: n)
        ranBy.initialize(repeating: -1, count: n)
        defer { ranBy.deallocate() }
        let stolen = Atomic<Bool>(false)
        pool.parallelForSlotted(n) { i, slot in
            ranBy[i] = slot
            if i < n / 2 {
                if slot != 0 { stolen.store(true, ordering: .relaxed); return }
                let start = DispatchTime.now().uptimeNanoseconds
                while !stolen.load(ordering: .relaxed), DispatchTime.now().uptimeNanoseconds - start < 50_000_000 {}
            }
        }
        for i in 0..<n { XCTAssertTrue(ranBy[i] == 0 || ranBy[i] == 1, "iteration \(i)") }
        let workerRan = (0..<n).contains { ranBy[$0] == 1 }
        let workerStole = (0..<n / 2).contains { ranBy[$0] == 1 }
        XCTAssertTrue(!workerRan || workerStole, "the worker ran its own half but stole nothing")
        // Home ranges: the caller starts at 0, the worker at n/2 (the caller reaches the worker's
        // range only after its own, which waits for a theft).
        XCTAssertEqual(ranBy[0], 0)
        XCTAssertTrue(!workerRan || ranBy[n / 2] == 1, "the worker did not start at its home range")
    }
}
