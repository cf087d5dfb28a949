import Glibc
import StalwartTensor

/// Small POSIX file-system helpers (no Foundation). Paths are `/`-separated byte strings; names
/// that are not valid UTF-8 are repaired by `String(cString:)` and then will not open.
/// Every failure throws `StalwartError.io` naming the path and `strerror(errno)`.
/// All functions are stateless and thread-safe (they only touch the file system).
public enum FileSystem {
    /// True when `path` names a directory (symbolic links followed).
    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// True when `path` names a regular file (symbolic links followed).
    public static func isRegularFile(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    /// True when something exists at `path` (a dangling symbolic link does not count).
    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// `a` and `b` joined with one `/`. `b` absolute → `b`; `a` empty → `b`; `b` empty → `a`.
    public static func join(_ a: String, _ b: String) -> String {
        if b.hasPrefix("/") || a.isEmpty { return b }
        if b.isEmpty { return a }
        return a.hasSuffix("/") ? a + b : a + "/" + b
    }

    /// The names in directory `path` (without `.` and `..`), sorted by UTF-8 bytes.
    public static func listDirectory(_ path: String) throws -> [String] {
        try entries(path).map { $0.name }
    }

    /// Relative (`/`-separated) paths of every regular file below `root`, recursively, sorted by
    /// UTF-8 bytes. Hidden entries are included. Symbolic links to files are listed; symbolic
    /// links to directories are followed, but every directory (identified by device and inode)
    /// is walked at most once, so link cycles terminate and a directory reachable twice is listed
    /// under the first path met in sorted order. Dangling links and special files are ignored.
    public static func walkFiles(_ root: String) throws -> [String] {
        guard isDirectory(root) else {
            throw StalwartError.io(exists(root) ? "'\(root)' is not a directory" : "folder '\(root)' does not exist")
        }
        var visited = Set<DirID>()
        var out: [String] = []
        try walk(root, prefix: "", visited: &visited, out: &out)
        out.sort(by: byteLess)
        return out
    }

    /// The whole content of file `path`.
    public static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ioError("cannot open '\(path)'") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ioError("cannot stat '\(path)'") }
        guard (st.st_mode & S_IFMT) != S_IFDIR else { throw StalwartError.io("'\(path)' is a directory, not a file") }
        var out: [UInt8] = []
        if st.st_size > 0 { out.reserveCapacity(Int(truncatingIfNeeded: st.st_size)) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ioError("cannot read '\(path)'")
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// Replaces (or creates) file `path` with `bytes` atomically: the bytes go to a temporary file
    /// in the same folder, which is fsync'ed and renamed over `path`, then the folder is fsync'ed.
    /// Readers see the old content or the new, never a half-written file; on failure the
    /// temporary file is removed and `path` is untouched. New files get mode 0644 (minus umask).
    public static func writeFileAtomically(_ path: String, _ bytes: [UInt8]) throws {
        guard !path.isEmpty, !path.hasSuffix("/") else {
            throw StalwartError.invalidArgument("cannot write '\(path)': not a file path")
        }
        let dir = parentDirectory(path)
        let base = String(path.split(separator: "/", omittingEmptySubsequences: false).last ?? "")
        var rng = SystemRandomNumberGenerator()
        let tmp = join(dir, ".\(base).tmp-\(getpid())-\(String(rng.next() as UInt64, radix: 16))")
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ioError("cannot create temporary file '\(tmp)' for '\(path)'") }
        var ok = false
        defer { if !ok { unlink(tmp) } }
        do {
            defer { close(fd) }
            var off = 0
            while off < bytes.count {
                let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress.map { $0 + off }, $0.count - off) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ioError("cannot write '\(tmp)' (for '\(path)')")
                }
                off += n
            }
            guard fsync(fd) == 0 else { throw ioError("cannot fsync '\(tmp)' (for '\(path)')") }
        }
        guard rename(tmp, path) == 0 else { throw ioError("cannot rename '\(tmp)' to '\(path)'") }
        ok = true
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }   // best effort: the rename itself succeeded
    }

    /// Creates `path` and its missing parents (mode 0755 minus umask), like `mkdir -p`.
    /// Throws when a component exists and is not a directory.
    public static func makeDirectories(_ path: String) throws {
        guard !path.isEmpty else { throw StalwartError.invalidArgument("cannot create a folder with an empty path") }
        var current = path.hasPrefix("/") ? "/" : ""
        for comp in path.split(separator: "/") {
            current = current.isEmpty ? String(comp) : join(current, String(comp))
            if comp == "." || comp == ".." { continue }
            if mkdir(current, 0o755) != 0 {
                let e = errno
                guard e == EEXIST else { throw ioError("cannot create folder '\(current)'", e) }
                guard isDirectory(current) else {
                    throw StalwartError.io("cannot create folder '\(path)': '\(current)' exists and is not a folder")
                }
            }
        }
    }

    // MARK: - Internals

    struct DirID: Hashable { let dev: UInt64; let ino: UInt64 }

    struct Entry { let name: String; let type: UInt8 }

    /// `a` before `b` in UTF-8 byte order (not Swift's Unicode-canonical `<`).
    static func byteLess(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }

    static func parentDirectory(_ path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "." }
        let p = String(path[..<slash])
        return p.isEmpty ? "/" : p
    }

    static func ioError(_ what: String, _ code: Int32 = errno) -> StalwartError {
        .io("\(what): \(String(cString: strerror(code)))")
    }

    static func entries(_ path: String) throws -> [Entry] {
        guard let d = opendir(path) else {
            let e = errno
            if e == ENOTDIR { throw StalwartError.io("'\(path)' is not a directory") }
            if e == ENOENT { throw StalwartError.io("folder '\(path)' does not exist") }
            throw ioError("cannot list folder '\(path)'", e)
        }
        defer { closedir(d) }
        var out: [Entry] = []
        while true {
            errno = 0
            guard let ent = readdir(d) else {
                if errno != 0 { throw ioError("cannot list folder '\(path)'") }
                break
            }
            let name = withUnsafePointer(to: &ent.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name == "." || name == ".." { continue }
            out.append(Entry(name: name, type: ent.pointee.d_type))
        }
        out.sort { byteLess($0.name, $1.name) }
        return out
    }

    private static func walk(_ dir: String, prefix: String, visited: inout Set<DirID>, out: inout [String]) throws {
        var st = stat()
        guard stat(dir, &st) == 0 else { throw ioError("cannot stat '\(dir)'") }
        guard visited.insert(DirID(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))).inserted else { return }
        for e in try entries(dir) {
            let full = join(dir, e.name)
            let rel = prefix.isEmpty ? e.name : prefix + "/" + e.name
            var isDir = false, isFile = false
            switch Int32(e.type) {
            case Int32(DT_DIR): isDir = true
            case Int32(DT_REG): isFile = true
            default:   // DT_LNK, DT_UNKNOWN, ...: ask stat (follows links)
                var s = stat()
                if stat(full, &s) == 0 {
                    isDir = (s.st_mode & S_IFMT) == S_IFDIR
                    isFile = (s.st_mode & S_IFMT) == S_IFREG
                }
            }
            if isDir {
                try walk(full, prefix: rel, visited: &visited, out: &out)
            } else if isFile {
                out.append(rel)
            }
        }
    }
}
