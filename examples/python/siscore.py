"""SI-Score on the bundled samples: one composite, a small sweep on disk, and per-factor scores.

    STALWART_LIB=.build/release/libStalwart.so python examples/python/siscore.py [out_dir]
"""
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bindings" / "python"))
import stalwart  # noqa: E402

samples = stalwart.siscore.DEFAULT_SAMPLES
out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="siscore-"))
out.mkdir(parents=True, exist_ok=True)

# 1. One composite: the koala at 30 % of a 512×512 beach, rotated 45°, centred.
koala = stalwart.load_image(samples / "foregrounds" / "koala" / "koala1.png", mode="RGBA")
beach = stalwart.load_image(samples / "backgrounds" / "beach2.jpg")
img, pct = stalwart.siscore.composite(koala, beach, area=0.3, x=0.5, y=0.5, angle=45, resolution=512)
stalwart.save_image(out / "koala_beach.png", img)
print(f"composite {img.shape}, {pct:.0%} of the object's box inside -> {out / 'koala_beach.png'}")

# 2. A small size sweep in the released layout (class folders of JPEGs + metadata.csv).
s = stalwart.siscore.generate(out / "size", preset="size", areas=[0.1, 0.3, 0.6])
print(f"wrote {s['written']} images to {out / 'size'} ({s['skipped']} left out: object not inside enough)")

# 3. Per-factor scores of the bundled model, generated in memory.
model = Path(__file__).resolve().parents[2] / "models" / "efficientnet_lite0.onnx"
if model.is_file():
    res = stalwart.siscore.evaluate(model, preset="size", areas=[0.1, 0.3, 0.6], backgrounds=4, db=str(out / "r.sqlite"))
    sc = stalwart.siscore.scores(res)
    for area, top1, top5, n in sc["size"]:
        print(f"  area {area:.2f}: top-1 {top1:.2f}  top-5 {top5:.2f}  ({n} images)")
    print(f"  size average top-1 {sc['averages']['size_average']:.3f}")
