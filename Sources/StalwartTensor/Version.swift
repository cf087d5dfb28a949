/// Stalwart's version (semantic versioning): what `stalwart_version()`, `stalwart --version`
/// and the results database record. Static storage, NUL-terminated (a StaticString literal).
public let stalwartVersion: StaticString = "0.1.0"
