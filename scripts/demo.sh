#!/usr/bin/env bash
# The main job on the bundled default: set up, then evaluate the bundled EfficientNet-Lite0 on
# the bundled photos — clean, all 19 ImageNet-C corruptions × 5 severities generated on the
# fly, at three test resolutions — store every result in SQLite and write the report.
# The model carries its preprocessing (efficientnet-lite preset) and class names in its
# metadata, so no preprocessing flags are needed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BIN=.build/release/stalwart
OUT="${STALWART_DEMO_OUT:-demo-output}"
mkdir -p "$OUT/photos"
# The photos as an ImageNet class-folder dataset (WordNet id folders; labels from labels.json).
for pair in n02123045:chelsea n07920052:coffee n03773504:rocket; do
  mkdir -p "$OUT/photos/${pair%%:*}"
  cp -f "examples/data/${pair##*:}.png" "$OUT/photos/${pair%%:*}/"
done
echo
$BIN eval --model models/efficientnet_lite0.onnx --data "$OUT/photos" \
  --corruptions all --severities 1-5 --resolutions 160,224,288 \
  --db "$OUT/results.sqlite" --report "$OUT/report.html"
echo
echo "Open $OUT/report.html for the plots (accuracy vs severity per corruption, vs test resolution,"
echo "reliability, mCE). Query the per-image rows with: sqlite3 $OUT/results.sqlite 'SELECT * FROM aggregates'"
echo "Running this again resumes: nothing left to do, so it finishes at once."
