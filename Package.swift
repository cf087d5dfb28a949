// swift-tools-version: 6.2
// Stalwart: robustness and transferability evaluation of image classifiers.
// Module map (data flows top to bottom):
//   CStalwartCPU            CPUID probe (C), used for kernel dispatch
//   StalwartKernelsAVX512   register-tiled microkernels built for AVX-512
//   StalwartKernelsAVX2     the same for AVX2+FMA
//   StalwartTensor          tensors, thread pool, kernel API + dispatch + reference kernels
//   StalwartImageIO         PNG (libpng png_image) and JPEG (TurboJPEG) decoding and encoding
//   StalwartPreprocess      resize, crop, normalize, layout, and the model-family presets
//   StalwartShift           the 19 ImageNet-C corruptions (deterministic, counter-based RNG)
//   StalwartONNX            ONNX protobuf decoding, graph, operators, planner, executor
//   StalwartMetrics         robustness scoring: streaming metrics, label spaces, aggregates
//   StalwartData            dataset layouts on disk (ImageNet-C/A/R/V2, ObjectNet, pm-k, SI-Score)
//   StalwartStore           the SQLite results database (per-image rows, metric states, aggregates)
//   StalwartReport          HTML/SVG, JSON and CSV reports from stored results
//   StalwartEval            the evaluation runner: data × shifts × resolutions → model → store
//   StalwartSIScore         SI-Score synthesis (object size / location / rotation) and per-factor scores
//   StalwartTransfer        embeddings' consumers: few-shot ridge, linear probes, cross-model correlations
//   CLAPACK                 LAPACK/BLAS from Debian's serial OpenBLAS (system library)
//   StalwartCAPI            the C ABI of include/stalwart.h (the only Unmanaged / status code)
//   StalwartCLI             the `stalwart` command
import PackageDescription

/// Debian's single-threaded OpenBLAS (package libopenblas0-serial).
let openBLASSerial = "/usr/lib/x86_64-linux-gnu/openblas-serial"

let kernelFlags: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"])]

let package = Package(
    name: "Stalwart",
    products: [
        .library(name: "Stalwart", type: .dynamic, targets: ["StalwartCAPI"]),
        .executable(name: "stalwart", targets: ["StalwartCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(name: "CStalwart", path: "include", publicHeadersPath: "."),
        .target(name: "CStalwartCPU"),
        .target(
            name: "StalwartKernelsAVX512",
            swiftSettings: kernelFlags + [.unsafeFlags(["-target-cpu", "skylake-avx512"])]),
        .target(
            name: "StalwartKernelsAVX2",
            swiftSettings: kernelFlags + [.unsafeFlags(["-target-cpu", "haswell"])]),
        .target(
            name: "StalwartTensor",
            dependencies: ["CStalwartCPU", "StalwartKernelsAVX512", "StalwartKernelsAVX2"]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .target(name: "StalwartImageIO", dependencies: ["StalwartTensor", "CPNG", "CTurboJPEG"]),
        .target(name: "StalwartPreprocess", dependencies: ["StalwartTensor"]),
        .target(
            name: "StalwartShift", dependencies: ["StalwartTensor", "StalwartPreprocess", "StalwartImageIO"],
            exclude: ["FROST_LICENSE"]),
        .target(name: "StalwartONNX", dependencies: ["StalwartTensor"]),
        .target(name: "StalwartMetrics", dependencies: ["StalwartTensor"]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "StalwartData", dependencies: ["StalwartTensor", "StalwartMetrics"]),
        .target(name: "StalwartStore", dependencies: ["StalwartTensor", "CSQLite"]),
        .target(name: "StalwartReport", dependencies: ["StalwartTensor"]),
        .target(
            name: "StalwartSIScore",
            dependencies: ["StalwartTensor", "StalwartImageIO", "StalwartPreprocess", "StalwartData", "StalwartReport"]),
        .systemLibrary(name: "CLAPACK", providers: [.apt(["libopenblas0-serial"])]),
        .target(
            name: "StalwartTransfer", dependencies: ["StalwartTensor", "CLAPACK"],
            // Debian's serial OpenBLAS by path (see Sources/CLAPACK/shim.h for why not the
            // pthread build that the libopenblas.so.0 alternative usually points to).
            linkerSettings: [.unsafeFlags([
                "-L\(openBLASSerial)", "-Xlinker", "-l:libopenblas.so.0", "-Xlinker", "-rpath", "-Xlinker", openBLASSerial,
            ])]),
        .target(
            name: "StalwartEval",
            dependencies: ["StalwartData", "StalwartStore", "StalwartReport", "StalwartONNX", "StalwartImageIO",
                           "StalwartPreprocess", "StalwartShift", "StalwartMetrics", "StalwartSIScore", "StalwartTransfer"]),
        .target(
            name: "StalwartCAPI",
            dependencies: ["CStalwart", "StalwartONNX", "StalwartImageIO", "StalwartPreprocess", "StalwartShift", "StalwartMetrics",
                           "StalwartEval", "StalwartSIScore", "StalwartTransfer"],
            linkerSettings: [
                .unsafeFlags([
                    "-Xlinker", "--version-script=\(Context.packageDirectory)/include/stalwart.map",
                    "-Xlinker", "-soname=libStalwart.so",
                ])
            ]),
        .executableTarget(
            name: "StalwartCLI",
            dependencies: [
                "StalwartONNX", "StalwartImageIO", "StalwartPreprocess", "StalwartShift", "StalwartEval",
                "StalwartSIScore", "StalwartTransfer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(
            name: "StalwartTensorTests", dependencies: ["StalwartTensor"],
            exclude: ["Fixtures", "gen_ops_cases.py"]),
        .testTarget(name: "StalwartONNXTests", dependencies: ["StalwartONNX"]),
        .testTarget(
            name: "StalwartImageIOTests", dependencies: ["StalwartImageIO"],
            exclude: ["Fixtures", "gen_reference.py"]),
        .testTarget(name: "StalwartShiftTests", dependencies: ["StalwartShift"]),
        .testTarget(name: "StalwartMetricsTests", dependencies: ["StalwartMetrics"]),
        .testTarget(name: "StalwartDataTests", dependencies: ["StalwartData"]),
        .testTarget(name: "StalwartStoreTests", dependencies: ["StalwartStore"]),
        .testTarget(name: "StalwartReportTests", dependencies: ["StalwartReport"]),
        .testTarget(name: "StalwartSIScoreTests", dependencies: ["StalwartSIScore"]),
        .testTarget(name: "StalwartTransferTests", dependencies: ["StalwartTransfer"]),
        .testTarget(
            name: "StalwartPreprocessTests", dependencies: ["StalwartPreprocess"],
            exclude: ["Fixtures", "gen_resize_cases.py"]),
    ],
    // Language mode 5: the engine shares raw buffers between threads by design (each parallel
    // loop writes disjoint ranges); Swift 6's Sendable checking cannot express that.
    swiftLanguageModes: [.v5]
)
