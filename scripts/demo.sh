#!/usr/bin/env bash
# The main job on the bundled default: set up, describe the bundled EfficientNet-Lite0, and
# classify the bundled photos with it (a real model on real images). The model carries its
# preprocessing (efficientnet-lite preset at 224 px) and class names in its metadata, so
# `classify` needs no flags.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BIN=.build/release/stalwart
echo
$BIN info models/efficientnet_lite0.onnx
echo
$BIN classify models/efficientnet_lite0.onnx examples/data/chelsea.png examples/data/coffee.png examples/data/rocket.png
echo
echo "(labels: chelsea 281 tabby cat, coffee 967 espresso, rocket 657 missile. ONNX Runtime gives the"
echo " same top-1s: 282 tiger cat p=0.395 with tabby third, 967 espresso p=0.951, 657 missile p=0.272)"
