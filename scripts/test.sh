#!/usr/bin/env bash
# Runs every test: Swift unit tests (XCTest) on each kernel instruction set this CPU has,
# then the Python suite (ONNX Runtime parity, ONNX conformance data, per-operator randomized
# tests, error handling, concurrency, the C boundary) against the release library.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${STALWART_VENV:-$PWD/.venv}"
[ -x "$VENV/bin/python" ] && [ -f .build/release/libStalwart.so ] || scripts/setup.sh

echo "== swift test (default kernels)"
swift test
for isa in avx2 generic; do
  echo "== swift test StalwartTensorTests with STALWART_ISA=$isa"
  STALWART_ISA=$isa swift test --skip-build --filter StalwartTensorTests 2>&1 | tail -n 3
done

echo "== pytest"
export STALWART_LIB="$PWD/.build/release/libStalwart.so" STALWART_CLI="$PWD/.build/release/stalwart"
"$VENV/bin/python" -m pytest Tests/python -q -p no:cacheprovider "$@"
echo "== pytest with STALWART_LAYOUT=nchw (ONNX parity and conformance on the NCHW convolution paths)"
STALWART_LAYOUT=nchw "$VENV/bin/python" -m pytest Tests/python/test_parity.py Tests/python/test_conformance.py \
  Tests/python/test_tf_style.py Tests/python/test_ops_random.py Tests/python/test_blocked_layout.py -q -p no:cacheprovider
