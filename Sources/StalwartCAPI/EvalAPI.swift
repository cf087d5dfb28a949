import CStalwart
import StalwartEval
import StalwartStore
import StalwartTensor

/// The object behind `stalwart_eval_options`.
final class EvalOptionsHandle {
    var config = EvalConfig(model: "", data: "")
}

@c @implementation
public func stalwart_eval_options_create(_ out: UnsafeMutablePointer<OpaquePointer?>?) -> stalwart_status {
    guard let out else { return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_eval_options_create: out is NULL") }
    out.pointee = OpaquePointer(Unmanaged.passRetained(EvalOptionsHandle()).toOpaque())
    return STALWART_OK
}

@c @implementation
public func stalwart_eval_options_free(_ options: OpaquePointer?) {
    guard let options else { return }
    Unmanaged<EvalOptionsHandle>.fromOpaque(UnsafeRawPointer(options)).release()
}

@c @implementation
public func stalwart_eval_options_set(_ options: OpaquePointer?, _ key: UnsafePointer<CChar>?,
                                      _ value: UnsafePointer<CChar>?) -> stalwart_status {
    guard let options, let key, let value else {
        return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_eval_options_set: NULL argument")
    }
    let h = Unmanaged<EvalOptionsHandle>.fromOpaque(UnsafeRawPointer(options)).takeUnretainedValue()
    return ErrorState.guarded {
        var c = h.config              // set() leaves `c` unchanged on error; commit only on success
        try c.set(String(cString: key), String(cString: value))
        h.config = c
    }
}

@c @implementation
public func stalwart_evaluate(_ modelPath: UnsafePointer<CChar>?, _ dataDir: UnsafePointer<CChar>?,
                              _ database: UnsafePointer<CChar>?, _ options: OpaquePointer?,
                              _ progress: stalwart_eval_progress?, _ userData: UnsafeMutableRawPointer?,
                              _ outEvaluated: UnsafeMutablePointer<Int64>?, _ outResumed: UnsafeMutablePointer<Int64>?,
                              _ outSkipped: UnsafeMutablePointer<Int64>?) -> stalwart_status {
    guard let modelPath, let dataDir, let database else {
        return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_evaluate: model_path, data_dir and database must not be NULL")
    }
    var config = options.map { Unmanaged<EvalOptionsHandle>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue().config }
        ?? EvalConfig(model: "", data: "")
    config.model = String(cString: modelPath)
    config.data = String(cString: dataDir)
    config.database = String(cString: database)
    return ErrorState.guarded {
        let s = try Evaluator.run(config) { p in
            guard let progress else { return true }
            return progress(userData, Int32(clamping: p.run), Int32(clamping: p.runs), Int64(p.done), Int64(p.total), p.imagesPerSecond) == 0
        }
        outEvaluated?.pointee = Int64(s.evaluated)
        outResumed?.pointee = Int64(s.resumed)
        outSkipped?.pointee = Int64(s.skipped)
    }
}

@c @implementation
public func stalwart_report_write(_ database: UnsafePointer<CChar>?, _ htmlPath: UnsafePointer<CChar>?,
                                  _ jsonPath: UnsafePointer<CChar>?, _ csvPath: UnsafePointer<CChar>?,
                                  _ title: UnsafePointer<CChar>?) -> stalwart_status {
    guard let database, let htmlPath else {
        return ErrorState.fail(STALWART_ERROR_INVALID_ARGUMENT, "stalwart_report_write: database and html_path must not be NULL")
    }
    return ErrorState.guarded {
        try ReportFiles.write(database: String(cString: database), html: String(cString: htmlPath),
                              json: jsonPath.map { String(cString: $0) }, csv: csvPath.map { String(cString: $0) },
                              title: title.map { String(cString: $0) } ?? ReportFiles.defaultTitle)
    }
}
