import StalwartTensor

/// A streaming metric: `add` batches (in any split across threads, processes or machines),
/// `merge` partial states, `serialize` them to bytes and back, and read `result`.
///
/// Contract (tested for every accumulator): adding shards to separate accumulators and merging
/// them equals adding everything to one (exactly for counts; to float64 rounding for sums);
/// `deserialize(serialize(a))` equals `a`. Not thread-safe: one accumulator per thread, merge at
/// the end.
public protocol MetricAccumulator {
    /// Stable name used in specs and in the serialized header ("accuracy", "ece", ...).
    static var name: String { get }
    /// The configuration as `key=value` pairs, in the spec syntax (see `MetricSpec`).
    var configuration: [(String, String)] { get }
    /// Adds the rows of `batch` (validated: see `ScoreBatch`); `summaries` are
    /// `batch.summaries()`, computed once per batch for all accumulators.
    mutating func add(_ batch: ScoreBatch, summaries: [RowSummary]) throws
    /// Adds the other accumulator's examples; configurations must be equal.
    mutating func merge(_ other: Self) throws
    /// The state after the configuration (the serialized header is written by `MetricBox`).
    func encodeState(_ w: inout ByteWriter)
    /// Rebuilds from a configuration and the state written by `encodeState`.
    init(configuration: MetricSpec, state r: inout ByteReader) throws
    /// Builds an empty accumulator from a spec.
    init(spec: MetricSpec) throws
    /// Named results, in a fixed order (NaN where undefined, e.g. no examples).
    func result() -> [(String, Double)]
}

/// `name[:key=value[,key=value...]]`, e.g. `ece:bins=15`, `accuracy:k=5`,
/// `gce:binning=adaptive,norm=l2,bins=100,class_conditional=1,threshold=0.01`.
/// Unknown keys are errors (a typo must not silently change a metric).
public struct MetricSpec: Sendable {
    public let name: String
    public private(set) var values: [String: String]

    public init(_ text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        name = String(parts[0]).trimmingSpaces()
        guard !name.isEmpty else { throw StalwartError.invalidArgument("empty metric spec") }
        values = [:]
        if parts.count == 2 {
            for item in parts[1].split(separator: ",") {
                let kv = item.split(separator: "=", maxSplits: 1)
                guard kv.count == 2 else { throw StalwartError.invalidArgument("metric option '\(item)' is not key=value") }
                values[String(kv[0]).trimmingSpaces()] = String(kv[1]).trimmingSpaces()
            }
        }
    }

    public init(name: String, values: [String: String]) { self.name = name; self.values = values }

    /// Rejects keys outside `allowed`.
    public func check(allowed: Set<String>) throws {
        for key in values.keys where !allowed.contains(key) {
            throw StalwartError.invalidArgument("\(name): unknown option '\(key)' (known: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    public func int(_ key: String, default d: Int, range: ClosedRange<Int>) throws -> Int {
        guard let s = values[key] else { return d }
        guard let v = Int(s), range.contains(v) else { throw StalwartError.invalidArgument("\(name): \(key)=\(s) must be an integer in \(range)") }
        return v
    }

    public func double(_ key: String, default d: Double, range: ClosedRange<Double>) throws -> Double {
        guard let s = values[key] else { return d }
        guard let v = Double(s), v.isFinite, range.contains(v) else { throw StalwartError.invalidArgument("\(name): \(key)=\(s) must be a number in \(range)") }
        return v
    }

    public func bool(_ key: String, default d: Bool) throws -> Bool {
        guard let s = values[key] else { return d }
        switch s.lowercased() {
        case "1", "true", "yes": return true
        case "0", "false", "no": return false
        default: throw StalwartError.invalidArgument("\(name): \(key)=\(s) must be 0/1")
        }
    }

    public func choice(_ key: String, default d: String, _ options: [String]) throws -> String {
        guard let s = values[key] else { return d }
        guard options.contains(s) else { throw StalwartError.invalidArgument("\(name): \(key)=\(s) must be one of \(options.joined(separator: ", "))") }
        return s
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}

/// A type-erased accumulator (what the C API and the CLI hold).
public final class MetricBox {
    public let name: String
    private var addImpl: (ScoreBatch, [RowSummary]) throws -> Void
    private var mergeImpl: (MetricBox) throws -> Void
    private var encodeImpl: (inout ByteWriter) -> Void
    private var resultImpl: () -> [(String, Double)]
    private var configImpl: () -> [(String, String)]
    fileprivate var payload: Any { payloadImpl() }
    private var payloadImpl: () -> Any

    init<M: MetricAccumulator>(_ metric: M) {
        var m = metric
        name = M.name
        addImpl = { b, s in try m.add(b, summaries: s) }
        encodeImpl = { w in m.encodeState(&w) }
        resultImpl = { m.result() }
        configImpl = { m.configuration }
        payloadImpl = { m }
        mergeImpl = { _ in }
        mergeImpl = { other in
            guard let o = other.payload as? M else {
                throw StalwartError.invalidArgument("cannot merge \(other.name) into \(M.name)")
            }
            try m.merge(o)
        }
    }

    /// Builds an empty accumulator from a spec (`MetricSpec`); unknown names are errors.
    public static func create(_ spec: String) throws -> MetricBox {
        let s = try MetricSpec(spec)
        guard let make = MetricRegistry.makers[s.name] else {
            throw StalwartError.invalidArgument("unknown metric '\(s.name)' (known: \(MetricRegistry.makers.keys.sorted().joined(separator: ", ")))")
        }
        return try make.create(s)
    }

    public func add(_ batch: ScoreBatch) throws { try addImpl(batch, try batch.summaries()) }
    public func add(_ batch: ScoreBatch, summaries: [RowSummary]) throws { try addImpl(batch, summaries) }
    public func merge(_ other: MetricBox) throws { try mergeImpl(other) }
    public func result() -> [(String, Double)] { resultImpl() }
    public var configuration: [(String, String)] { configImpl() }

    /// Versioned bytes: "SWMT", format version (u32), name, configuration pairs, state.
    public func serialize() -> [UInt8] {
        var w = ByteWriter()
        w.bytes(Array("SWMT".utf8)); w.u32(MetricBox.formatVersion)
        w.string(name)
        let config = configuration
        w.u32(UInt32(config.count))
        for (k, v) in config { w.string(k); w.string(v) }
        encodeImpl(&w)
        return w.data
    }

    public static let formatVersion: UInt32 = 1

    /// Rebuilds an accumulator from `serialize()` bytes; any corruption is an error.
    public static func deserialize(_ bytes: [UInt8]) throws -> MetricBox {
        var r = ByteReader(bytes)
        guard try r.bytes(4) == Array("SWMT".utf8) else { throw StalwartError.invalidArgument("not a serialized Stalwart metric (bad magic)") }
        let version = try r.u32()
        guard version == formatVersion else { throw StalwartError.unsupported("serialized metric format version \(version); this library reads \(formatVersion)") }
        let name = try r.string()
        let n = try r.u32()
        guard n <= 64 else { throw StalwartError.invalidArgument("corrupt serialized metric: \(n) options") }
        var values: [String: String] = [:]
        for _ in 0..<n { let k = try r.string(); values[k] = try r.string() }
        guard let make = MetricRegistry.makers[name] else { throw StalwartError.invalidArgument("serialized metric '\(name)' is unknown") }
        let box = try make.decode(MetricSpec(name: name, values: values), &r)
        guard r.remaining == 0 else { throw StalwartError.invalidArgument("corrupt serialized metric: \(r.remaining) trailing bytes") }
        return box
    }
}

/// Constructors of every accumulator by name.
enum MetricRegistry {
    struct Maker {
        let create: (MetricSpec) throws -> MetricBox
        let decode: (MetricSpec, inout ByteReader) throws -> MetricBox
    }
    static func maker<M: MetricAccumulator>(_ type: M.Type) -> (String, Maker) {
        (M.name, Maker(create: { MetricBox(try M(spec: $0)) },
                       decode: { spec, r in MetricBox(try M(configuration: spec, state: &r)) }))
    }
    static let makers: [String: Maker] = Dictionary(uniqueKeysWithValues: allMetrics.map { maker($0) }.map { ($0.0, $0.1) })
}
