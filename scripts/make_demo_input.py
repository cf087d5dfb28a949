"""Writes examples/data/photos_224.npy: the three bundled photos (chelsea, coffee, rocket;
scikit-image data, CC0 / public domain) preprocessed for EfficientNet-Lite0 exactly as
../shared/fixtures/MODELS.md specifies (Pillow bicubic resize of the shorter side to 256,
centre crop 224, (x - 127) / 128, NCHW float32). Until Stalwart decodes images itself
(issue 3) the README's demo feeds this tensor.

    python scripts/make_demo_input.py   # needs numpy and pillow
"""
import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "examples", "data")


def preprocess(path, res=224):
    im = Image.open(path).convert("RGB")
    short = int(256 * res / 224)
    w, h = im.size
    nw, nh = (short, int(short * h / w)) if w <= h else (int(short * w / h), short)
    im = im.resize((nw, nh), Image.BICUBIC)
    left, top = int(round((nw - res) / 2.0)), int(round((nh - res) / 2.0))
    x = np.asarray(im.crop((left, top, left + res, top + res)), dtype=np.float32)
    return ((x - 127.0) / 128.0).transpose(2, 0, 1)


if __name__ == "__main__":
    names = ["chelsea.png", "coffee.png", "rocket.png"]
    batch = np.stack([preprocess(os.path.join(DATA, n)) for n in names]).astype(np.float32)
    np.save(os.path.join(DATA, "photos_224.npy"), batch)
    print("wrote", batch.shape, "for", names)
