import CStalwart
import Glibc
import StalwartTensor

/// Thread-local last-error message for `stalwart_last_error()`, stored as a malloc'd C string
/// per thread (freed when the thread exits or the next error replaces it).
enum ErrorState {
    static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { p in free(p) }
        return k
    }()
    static let empty: StaticString = ""

    static func current() -> UnsafePointer<CChar> {
        if let p = pthread_getspecific(key) { return UnsafePointer(p.assumingMemoryBound(to: CChar.self)) }
        return UnsafeRawPointer(empty.utf8Start).assumingMemoryBound(to: CChar.self)
    }

    static func set(_ message: String) {
        let old = pthread_getspecific(key)
        pthread_setspecific(key, strdup(message))
        free(old)
    }

    /// Records `message` and returns `status`.
    static func fail(_ status: stalwart_status, _ message: String) -> stalwart_status {
        set(message)
        return status
    }

    /// Runs `body`, mapping any thrown error to a status with its message.
    static func guarded(_ body: () throws -> Void) -> stalwart_status {
        do {
            try body()
            return STALWART_OK
        } catch let e as StalwartError {
            let (status, msg) = map(e)
            return fail(status, msg)
        } catch let e as ShapeError {
            return fail(STALWART_ERROR_OUT_OF_MEMORY, e.description)
        } catch let e as TensorError {
            return fail(STALWART_ERROR_OUT_OF_MEMORY, e.description)
        } catch {
            return fail(STALWART_ERROR_INTERNAL, "\(error)")
        }
    }

    static func map(_ e: StalwartError) -> (stalwart_status, String) {
        switch e {
        case .invalidArgument(let m): return (STALWART_ERROR_INVALID_ARGUMENT, m)
        case .io(let m): return (STALWART_ERROR_IO, m)
        case .invalidModel(let m): return (STALWART_ERROR_INVALID_MODEL, m)
        case .unsupported(let m): return (STALWART_ERROR_UNSUPPORTED, m)
        case .shapeMismatch(let m): return (STALWART_ERROR_SHAPE_MISMATCH, m)
        case .outOfMemory(let m): return (STALWART_ERROR_OUT_OF_MEMORY, m)
        case .bufferTooSmall(let m): return (STALWART_ERROR_BUFFER_TOO_SMALL, m)
        case .decode(let m): return (STALWART_ERROR_DECODE, m)
        case .internal(let m): return (STALWART_ERROR_INTERNAL, m)
        }
    }
}

/// Static names of the status codes.
enum StatusNames {
    static let names: [StaticString] = ["ok", "invalid argument", "I/O error", "invalid model", "unsupported",
                                        "shape mismatch", "out of memory", "buffer too small", "internal error",
                                        "decode error"]
    static let unknown: StaticString = "unknown status"
    static func name(_ s: stalwart_status) -> UnsafePointer<CChar> {
        let str = s >= 0 && Int(s) < names.count ? names[Int(s)] : unknown
        return UnsafeRawPointer(str.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}

/// A malloc'd copy of `bytes` for the caller to release with `stalwart_free` (at least one
/// byte is allocated, so an empty result is still a valid pointer).
func mallocCopy(_ bytes: [UInt8]) throws -> UnsafeMutablePointer<UInt8> {
    guard let buf = malloc(max(bytes.count, 1))?.assumingMemoryBound(to: UInt8.self) else {
        throw StalwartError.outOfMemory("cannot allocate \(bytes.count) bytes")
    }
    bytes.withUnsafeBufferPointer { src in if let b = src.baseAddress { buf.update(from: b, count: bytes.count) } }
    return buf
}
