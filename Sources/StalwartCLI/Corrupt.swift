import ArgumentParser
import Dispatch
import Foundation
import StalwartImageIO
import StalwartShift
import StalwartTensor

struct Corrupt: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write ImageNet-C style corrupted copies of an image folder.",
        discussion: """
            Output layout: OUT_DIR/{corruption}/{severity}/{path relative to IN_DIR}. Every image \
            gets its own random stream keyed by its relative path, so results do not depend on \
            the order or the number of threads. Finished files are skipped when the command is \
            run again, and files are written under a temporary name and renamed, so an \
            interrupted run never leaves a half-written image.
            """)

    @Argument(help: "Folder of PNG/JPEG images (searched recursively).") var inDir: String
    @Argument(help: "Output folder.") var outDir: String
    @Option(help: "Corruption names or subsets (common, validation, all, noise, blur, weather, digital), comma-separated.")
    var corruptions: String = "common"
    @Option(help: "Severities: a range like 1-5 or a list like 1,3,5.") var severities: String = "1-5"
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Output format: png (lossless) or jpeg.") var format: String = "png"
    @Option(help: "JPEG quality when --format jpeg.") var quality: Int = 95
    @Option(help: "imagecorruptions (default) or hendrycks semantics.") var mode: String = "imagecorruptions"
    @Option(help: "Worker threads (0 = one per core).") var threads: Int = 0

    func run() throws {
        do {
            let names = try parseCorruptions(corruptions)
            let sevs = try parseSeverities(severities)
            guard let m = CorruptionMode(rawValue: mode) else { throw StalwartError.invalidArgument("--mode must be imagecorruptions or hendrycks") }
            guard format == "png" || format == "jpeg" else { throw StalwartError.invalidArgument("--format must be png or jpeg") }
            let inputs = try listImages(inDir)
            guard !inputs.isEmpty else { throw StalwartError.invalidArgument("no PNG or JPEG files under '\(inDir)'") }
            var jobs: [(rel: String, c: Corruption, s: Int, out: String)] = []
            for rel in inputs {          // image-major: each input is decoded once and reused
                for c in names {
                    for s in sevs {
                        let ext = format == "png" ? "png" : "jpg"
                        let base = (rel as NSString).deletingPathExtension
                        let out = "\(outDir)/\(c.rawValue)/\(s)/\(base).\(ext)"
                        if !FileManager.default.fileExists(atPath: out) { jobs.append((rel, c, s, out)) }
                    }
                }
            }
            let total = names.count * sevs.count * inputs.count
            FileHandle.standardError.write(Data("\(total) outputs, \(total - jobs.count) already done, \(jobs.count) to write\n".utf8))
            try runJobs(jobs, mode: m)
        } catch let e as ExitCode { throw e } catch { throw fail(error) }
    }

    /// What the workers of `runJobs` share: progress, failures and the decoded inputs of the
    /// images in flight. Every access holds `lock`.
    final class RunState: @unchecked Sendable {
        let lock = NSLock()
        var done = 0
        var failures: [String] = []
        var cache: [String: Image] = [:]   // decoded inputs, shared by the jobs of one image

        func cached(_ rel: String) -> Image? { lock.lock(); defer { lock.unlock() }; return cache[rel] }
        func store(_ rel: String, _ img: Image) {
            lock.lock(); defer { lock.unlock() }
            if cache.count > 64 { cache.removeAll() }
            cache[rel] = img
        }
        func fail(_ message: String) { lock.lock(); failures.append(message); lock.unlock() }
        func finishOne() -> Int { lock.lock(); defer { lock.unlock() }; done += 1; return done }
    }

    func runJobs(_ jobs: [(rel: String, c: Corruption, s: Int, out: String)], mode m: CorruptionMode) throws {
        let workers = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
        let state = RunState()
        let start = Date()
        let queue = DispatchQueue(label: "stalwart.corrupt", attributes: .concurrent)
        let group = DispatchGroup()
        let sem = DispatchSemaphore(value: workers)
        let (inDir, seed, quality) = (self.inDir, self.seed, self.quality)
        for job in jobs {
            sem.wait()
            group.enter()
            queue.async {
                defer { sem.signal(); group.leave() }
                do {
                    let cached = state.cached(job.rel)
                    let img = try cached ?? ImageCodec.decode(path: "\(inDir)/\(job.rel)")
                    if cached == nil { state.store(job.rel, img) }
                    let out = try Corruptions.apply(img, job.c, severity: job.s, seed: seed, key: Corrupt.key(job.rel), mode: m)
                    try Corrupt.writeAtomically(out, to: job.out, quality: quality)
                } catch {
                    state.fail("\(job.rel) \(job.c.rawValue)/\(job.s): \((error as? StalwartError)?.message ?? "\(error)")")
                }
                let d = state.finishOne()
                if d % 10 == 0 || d == jobs.count { Corrupt.progress(d, jobs.count, start) }
            }
        }
        group.wait()
        FileHandle.standardError.write(Data("\n".utf8))
        let failures = state.failures
        if !failures.isEmpty {
            for f in failures.prefix(20) { FileHandle.standardError.write(Data("stalwart: error: \(f)\n".utf8)) }
            throw StalwartError.invalidArgument("\(failures.count) of \(jobs.count) outputs failed (rerun to retry them)")
        }
    }

    static func key(_ rel: String) -> UInt64 { Corruption.datasetKey(rel) }

    static func writeAtomically(_ img: Image, to path: String, quality: Int) throws {
        let dir = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let ext = (path as NSString).pathExtension
        let tmp = "\(dir)/.tmp-\(UInt64.random(in: 0...UInt64.max)).\(ext)"
        try ImageCodec.write(img, path: tmp, quality: quality)
        guard rename(tmp, path) == 0 else {
            unlink(tmp)
            throw StalwartError.io("cannot move \(tmp) to \(path)")
        }
    }

    static func progress(_ done: Int, _ total: Int, _ start: Date) {
        let t = Date().timeIntervalSince(start)
        let rate = Double(done) / max(t, 1e-9)
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let width = 30, filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        FileHandle.standardError.write(Data(String(format: "\r[%@] %d/%d  %.1f img/s  ETA %.0fs ", bar, done, total, rate, eta).utf8))
    }

    func parseCorruptions(_ s: String) throws -> [Corruption] { try Corruption.parseList(s) }

    func parseSeverities(_ s: String) throws -> [Int] { try Corruption.parseSeverities(s) }

    /// Image files under `dir`, as paths relative to it, sorted.
    func listImages(_ dir: String) throws -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw StalwartError.io("'\(dir)' is not a folder")
        }
        guard let e = FileManager.default.enumerator(atPath: dir) else { throw StalwartError.io("cannot list '\(dir)'") }
        var out: [String] = []
        while let p = e.nextObject() as? String {
            let ext = (p as NSString).pathExtension.lowercased()
            if ["png", "jpg", "jpeg"].contains(ext) && !(p as NSString).lastPathComponent.hasPrefix(".") { out.append(p) }
        }
        return out.sorted()
    }
}
