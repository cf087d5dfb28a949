#!/usr/bin/env bash
# The main job on the bundled default: set up, then
#  1. evaluate the bundled EfficientNet-Lite0 on the bundled photos — clean, all 19 ImageNet-C
#     corruptions × 5 severities generated on the fly, at three test resolutions;
#  2. an SI-Score object-size sweep (the bundled si-score objects and backgrounds, composited in
#     memory) into the same database, and the report with both;
#  3. a robustness-vs-transfer study over the three bundled EfficientNet-Lite scales (few-shot
#     transfer to scikit-learn's handwritten digits against corrupted accuracy).
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
  --db "$OUT/results.sqlite"
echo
echo "== SI-Score: accuracy vs object size (9 objects × 4 backgrounds × 3 areas, in memory)"
$BIN siscore eval --model models/efficientnet_lite0.onnx --preset size --areas 0.1,0.3,0.6 --backgrounds 4 \
  --db "$OUT/results.sqlite" --plots "$OUT/siscore" --quiet
$BIN report --db "$OUT/results.sqlite" --out "$OUT/report.html"
echo
echo "== Robustness vs transfer across EfficientNet-Lite0/1/2 (few-shot on handwritten digits)"
STALWART_CLI="$PWD/$BIN" STALWART_LIB="$PWD/.build/release/libStalwart.so" \
  "${STALWART_VENV:-$PWD/.venv}/bin/python" examples/python/transfer_study.py "$OUT/study"
echo
echo "Open $OUT/report.html for the plots (accuracy vs severity per corruption, vs test resolution,"
echo "reliability, mCE, SI-Score accuracy vs object size) and $OUT/study/study.html for the study's"
echo "scatter plot. Query the per-image rows with: sqlite3 $OUT/results.sqlite 'SELECT * FROM aggregates'"
echo "Running this again resumes the evaluations: nothing left to do there."
