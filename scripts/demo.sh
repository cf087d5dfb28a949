#!/usr/bin/env bash
# The main job on the bundled default: set up, describe the bundled EfficientNet-Lite0, and
# classify the bundled photos with it (a real model on real images).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BIN=.build/release/stalwart
echo
$BIN info models/efficientnet_lite0.onnx
echo
$BIN run models/efficientnet_lite0.onnx --input examples/data/photos_224.npy \
  --output "${TMPDIR:-/tmp}/stalwart_logits.npy" --top 5 --labels models/imagenet_classes.txt
echo "(rows: chelsea.png, coffee.png, rocket.png. ONNX Runtime gives the same top-1: 282 tiger cat p=0.395"
echo " (the true label 281 tabby is 3rd), 967 espresso p=0.951, 657 missile p=0.272)"
