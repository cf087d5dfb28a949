#!/usr/bin/env bash
# Kernel timing (GFLOP/s, GB/s) for every ISA this CPU supports; a release build of the
# StalwartTensor tests with STALWART_BENCH=1. Nothing is asserted.
# Usage: benchmarks/kernels/run.sh [Sgemm|Conv|ConvResNetSmall|Depthwise]
set -euo pipefail
cd "$(dirname "$0")/../.."
filter="StalwartTensorTests.KernelBenchmarks${1:+/test$1}"
STALWART_BENCH=1 swift test -c release -Xswiftc -enable-testing --scratch-path .build-kernels \
    --filter "$filter" 2>&1 | grep -E '^BENCH|error|failed' || true
