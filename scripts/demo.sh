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
echo "(rows: chelsea.png, coffee.png, rocket.png; expected 281 tabby cat, 967 espresso, 657 missile)"
