#!/usr/bin/env python3
"""Writes the oracle fixtures of ResizeTests / GeometryTests (deterministic; re-run after changes):

  Fixtures/resize_cases.json  Pillow Image.resize cases (modes L, RGB, RGBA, F), photo cases,
                              timm crop_pct sizes; pixel data lives in
  Fixtures/resize_data.bin    (raw bytes; offsets and lengths in the JSON)
  Fixtures/torch_cases.json   torchvision/PyTorch cases (Resize size rule, CenterCrop,
                              Resize+CenterCrop pipelines on PIL images, float interpolate with and
                              without antialias). Written only when torch + torchvision import;
                              otherwise the committed file is left as it is.

Sources are either generated (a SplitMix64 stream the Swift tests reproduce: see `Rng` and
`gen_source`) or crops of the shared photos (stored). Expected outputs up to CAP bytes are stored
whole; larger ones store every `stride`-th row (≤ CAP bytes, for error statistics) plus the
FNV-1a 64 hash of the whole output (for exactness), which keeps the fixtures well under 1.5 MB.

Oracles: Pillow (the installed version is recorded), NumPy; torch/torchvision optional.
Usage: /work/venv/bin/python gen_resize_cases.py [--full DIR]
  --full DIR  write every expected output whole into DIR instead of Fixtures/ (large; for
              development: run the tests with STALWART_RESIZE_FIXTURES=DIR to get |Δ| statistics
              over every pixel).
"""
import base64
import json
import math
import sys
from pathlib import Path

import numpy as np
import PIL
from PIL import Image

HERE = Path(__file__).resolve().parent
FIX = HERE / "Fixtures"
ROOT = HERE.parents[1]
MASK = (1 << 64) - 1
CAP = 1536

FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "box": Image.Resampling.BOX,
    "lanczos": Image.Resampling.LANCZOS,
    "hamming": Image.Resampling.HAMMING,
}
ALL = list(FILTERS)
MODE_CHANNELS = {"L": 1, "RGB": 3, "RGBA": 4}


def shared_images():
    for cand in (ROOT.parent / "shared" / "fixtures" / "images", Path("/work/shared/fixtures/images")):
        if (cand / "chelsea.png").exists():
            return cand
    sys.exit("shared/fixtures/images not found")


class Rng:
    """SplitMix64 (the Swift tests implement the same stream)."""

    def __init__(self, seed):
        self.s = seed & MASK

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & MASK
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)


def gen_source(spec):
    """uint8 (h, w, c) or float32 (h, w, c) array for a generated source spec."""
    kind, w, h, c, seed = spec["kind"], spec["w"], spec["h"], spec["c"], spec["seed"]
    rng = Rng(seed)
    if kind == "noise":
        v = [rng.next() >> 56 for _ in range(w * h * c)]
        return np.array(v, dtype=np.uint8).reshape(h, w, c)
    if kind == "blocks":
        b = spec["block"]
        nbx, nby = -(-w // b), -(-h // b)
        table = []
        for _ in range(nbx * nby * c):
            r = rng.next()
            sel = r & 3
            table.append(0 if sel == 0 else 255 if sel == 1 else r >> 56)
        table = np.array(table, dtype=np.uint8).reshape(nby, nbx, c)
        ys = np.arange(h) // b
        xs = np.arange(w) // b
        return table[ys][:, xs]
    if kind == "fnoise":
        v = [((rng.next() >> 40) & 0xFFFF) / 256.0 - 32.0 for _ in range(w * h * c)]
        return np.array(v, dtype=np.float32).reshape(h, w, c)
    raise ValueError(kind)


def fnv1a64(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & MASK
    return f"{h:016x}"


class Blob:
    def __init__(self):
        self.parts = []
        self.size = 0

    def add(self, data: bytes):
        off = self.size
        self.parts.append(data)
        self.size += len(data)
        return {"offset": off, "length": len(data)}


def pil_resize(arr, mode, size, filt, box=None):
    """Pillow's resize of an (h, w, c) array in `mode`; F resizes each channel as its own image."""
    if mode == "F":
        chans = [np.asarray(Image.fromarray(np.ascontiguousarray(arr[:, :, k]), mode="F")
                            .resize(size, FILTERS[filt], box=box), dtype=np.float32)
                 for k in range(arr.shape[2])]
        return np.stack(chans, axis=2)
    img = Image.fromarray(arr[:, :, 0] if mode == "L" else arr, mode=mode)
    out = np.asarray(img.resize(size, FILTERS[filt], box=box))
    return out.reshape(size[1], size[0], MODE_CHANNELS[mode])


def expectation(blob, out, stride=None):
    raw = np.ascontiguousarray(out).astype(out.dtype.newbyteorder("<")).tobytes()
    if len(raw) <= CAP:
        return {"kind": "full", **blob.add(raw)}
    stride = max(2, -(-len(raw) // CAP))
    rows = np.ascontiguousarray(out[::stride]).astype(out.dtype.newbyteorder("<")).tobytes()
    return {"kind": "rows", "stride": stride, "hash": fnv1a64(raw), **blob.add(rows)}


def main():
    global FIX, CAP
    if len(sys.argv) == 3 and sys.argv[1] == "--full":
        FIX, CAP = Path(sys.argv[2]).resolve(), 1 << 60
    elif len(sys.argv) != 1:
        sys.exit(__doc__)
    images = shared_images()
    blob = Blob()
    sources = {}
    cases = []
    arrays = {}

    def gsrc(name, kind, w, h, c, seed, **kw):
        sources[name] = {"kind": kind, "w": w, "h": h, "c": c, "seed": seed, **kw}

    def dsrc(name, arr):
        h, w, c = arr.shape
        dtype = "f32" if arr.dtype == np.float32 else "u8"
        sources[name] = {"kind": "data", "w": w, "h": h, "c": c, "dtype": dtype,
                         **blob.add(np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes())}
        arrays[name] = arr

    def arr_of(name):
        if name not in arrays:
            s = sources[name]
            arrays[name] = gen_source(s)
        return arrays[name]

    def case(name, src, mode, w, h, filters=ALL, box=None, stride=None):
        a = arr_of(src)
        for f in filters:
            out = pil_resize(a, mode, (w, h), f, box)
            cases.append({"name": f"{name}/{mode}/{f}", "src": src, "mode": mode, "w": w, "h": h,
                          "filter": f, "box": list(box) if box else None,
                          "expect": expectation(blob, out, stride)})

    # Generated sources (uint8 then float).
    gsrc("n333x517x3", "blocks", 333, 517, 3, 1, block=3)
    gsrc("n333x517x1", "noise", 333, 517, 1, 2)
    gsrc("n333x517x4", "blocks", 333, 517, 4, 3, block=5)
    for c, m in ((1, "L"), (3, "RGB"), (4, "RGBA")):
        gsrc(f"n37x23x{c}", "noise", 37, 23, c, 10 + c)
        gsrc(f"b37x23x{c}", "blocks", 37, 23, c, 20 + c, block=4)
        gsrc(f"n1x50x{c}", "noise", 1, 50, c, 30 + c)
        gsrc(f"n50x1x{c}", "noise", 50, 1, c, 40 + c)
        gsrc(f"n1x1x{c}", "noise", 1, 1, c, 50 + c)
        gsrc(f"b16x12x{c}", "blocks", 16, 12, c, 60 + c, block=3)
        gsrc(f"n400x300x{c}", "noise", 400, 300, c, 70 + c)
        gsrc(f"n64x48x{c}", "blocks", 64, 48, c, 80 + c, block=2)
    gsrc("n2000x2x3", "noise", 2000, 2, 3, 90)
    gsrc("n3x1000x1", "noise", 3, 1000, 1, 91)

    # 333×517 → 224×224, every filter (RGB), a few in L and RGBA: stored as sampled rows + hash.
    case("333x517to224", "n333x517x3", "RGB", 224, 224)
    case("333x517to224", "n333x517x1", "L", 224, 224, filters=["bilinear", "bicubic", "lanczos"])
    case("333x517to224", "n333x517x4", "RGBA", 224, 224, filters=["bilinear", "bicubic", "nearest"])

    for c, m in ((1, "L"), (3, "RGB"), (4, "RGBA")):
        case("37x23to100x7", f"n37x23x{c}", m, 100, 7)
        case("37x23to100x7b", f"b37x23x{c}", m, 100, 7)
        case("37x23to5x61", f"b37x23x{c}", m, 5, 61)
        case("1x50to1x13", f"n1x50x{c}", m, 1, 13)
        case("1x50to5x80", f"n1x50x{c}", m, 5, 80)
        case("50x1to17x1", f"n50x1x{c}", m, 17, 1)
        case("50x1to3x9", f"n50x1x{c}", m, 3, 9)
        case("1x1to5x3", f"n1x1x{c}", m, 5, 3)
        case("16x12to67x45", f"b16x12x{c}", m, 67, 45)
        case("400x300to7x5", f"n400x300x{c}", m, 7, 5)
        case("400x300to1x1", f"n400x300x{c}", m, 1, 1)
        case("400x300to131x97", f"n400x300x{c}", m, 131, 97, filters=["bilinear", "bicubic", "lanczos"])
        # Pillow's box= sub-rectangles: fractional, integer-crop (size matches), integer resize,
        # fractional with the output the box size, zero-width, touching the far edges.
        case("box-frac", f"n64x48x{c}", m, 30, 20, box=(3.5, 2.25, 50.75, 40.1))
        case("box-crop", f"n64x48x{c}", m, 32, 32, box=(10, 5, 42, 37))
        case("box-int", f"n64x48x{c}", m, 13, 41, box=(10, 5, 42, 37))
        case("box-frac-same", f"n64x48x{c}", m, 32, 32, box=(10.5, 5, 42.5, 37))
        case("box-edge", f"n64x48x{c}", m, 9, 70, box=(60.3, 0.7, 64, 48))
        case("box-zero", f"n64x48x{c}", m, 3, 3, box=(5, 5, 5, 20))
        case("box-zero-edge", f"n64x48x{c}", m, 3, 3, box=(64, 5, 64, 20))
        case("same-size-box", f"n64x48x{c}", m, 64, 48, box=(0.5, 0.25, 63.5, 47.75))
        case("same-size", f"n64x48x{c}", m, 64, 48)
        case("only-width", f"n64x48x{c}", m, 41, 48)
        case("only-height", f"n64x48x{c}", m, 64, 17)
    case("2000x2to3x2", "n2000x2x3", "RGB", 3, 2)
    case("2000x2to1x1", "n2000x2x3", "RGB", 1, 1)
    case("3x1000to2x7", "n3x1000x1", "L", 2, 7)

    # Crops of the shared photos (stored): RGB, L (Pillow's convert) and RGBA (photo + block alpha).
    photo_crops = {"chelsea": (150, 40, 214, 88), "coffee": (300, 150, 356, 198), "rocket": (250, 90, 310, 140)}
    for pname, (x0, y0, x1, y1) in photo_crops.items():
        im = Image.open(images / f"{pname}.png").convert("RGB").crop((x0, y0, x1, y1))
        rgb = np.asarray(im)
        dsrc(f"{pname}-rgb", rgb)
        dsrc(f"{pname}-l", np.asarray(im.convert("L"))[:, :, None])
        alpha = gen_source({"kind": "blocks", "w": rgb.shape[1], "h": rgb.shape[0], "c": 1, "seed": 100, "block": 6})
        dsrc(f"{pname}-rgba", np.concatenate([rgb, alpha], axis=2))
        w, h = rgb.shape[1], rgb.shape[0]
        case(f"photo-{pname}-up", f"{pname}-rgb", "RGB", 224, 168)
        case(f"photo-{pname}-down", f"{pname}-rgb", "RGB", 31, 23)
        case(f"photo-{pname}-down", f"{pname}-l", "L", 31, 23)
        case(f"photo-{pname}-down", f"{pname}-rgba", "RGBA", 29, 41)
        case(f"photo-{pname}-box", f"{pname}-rgb", "RGB", 50, 40, box=(3.3, 7.9, w - 4.6, h - 0.5))

    # Mode "F" (float) resizes, channel by channel.
    for c in (1, 3):
        gsrc(f"f37x23x{c}", "fnoise", 37, 23, c, 200 + c)
        gsrc(f"f64x48x{c}", "fnoise", 64, 48, c, 210 + c)
        gsrc(f"f5x1x{c}", "fnoise", 5, 1, c, 220 + c)
        case("f37x23to100x7", f"f37x23x{c}", "F", 100, 7)
        case("f64x48to20x30", f"f64x48x{c}", "F", 20, 30)
        case("f64x48to131x9", f"f64x48x{c}", "F", 131, 9)
        case("f5x1to17x3", f"f5x1x{c}", "F", 17, 3)
    gsrc("f400x300x3", "fnoise", 400, 300, 3, 230)
    case("f400x300to7x5", "f400x300x3", "F", 7, 5)
    arrays["chelsea-f"] = np.asarray(Image.open(images / "chelsea.png").convert("RGB").crop(photo_crops["chelsea"])).astype(np.float32)
    sources["chelsea-f"] = {"kind": "fromsource", "of": "chelsea-rgb", "w": 64, "h": 48, "c": 3}
    case("photo-chelsea-f", "chelsea-f", "F", 61, 97)

    # Whole photos (decoded by the Swift tests from shared/): torchvision Resize(shorter side) sizes.
    photos = []
    for pname, short, filt in (("chelsea", 256, "bicubic"), ("chelsea", 256, "bilinear"),
                               ("coffee", 256, "bicubic"), ("rocket", 224, "bilinear")):
        im = Image.open(images / f"{pname}.png").convert("RGB")
        w, h = im.size
        size = (short, int(short * h / w)) if w <= h else (int(short * w / h), short)
        out = np.asarray(im.resize(size, FILTERS[filt])).reshape(size[1], size[0], 3)
        photos.append({"file": f"{pname}.png", "src_w": w, "src_h": h, "w": size[0], "h": size[1],
                       "filter": filt, "expect": expectation(blob, out, 16)})

    crop_pct = [{"size": s, "crop_pct": p, "scale_size": math.floor(s / p)}
                for s in (224, 256, 288, 299, 320, 384, 448, 518)
                for p in (0.875, 0.9, 0.95, 0.96, 1.0, 0.8, 0.85, 0.922, 0.765, 0.7)]

    FIX.mkdir(parents=True, exist_ok=True)
    (FIX / "resize_data.bin").write_bytes(b"".join(blob.parts))
    doc = {"generator": "gen_resize_cases.py", "pillow": PIL.__version__, "numpy": np.__version__,
           "sources": sources, "cases": cases, "photos": photos, "crop_pct": crop_pct}
    (FIX / "resize_cases.json").write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"resize_cases.json: {len(cases)} cases, {len(photos)} photos; resize_data.bin {blob.size} bytes")

    try:
        import torch
        import torchvision
    except ImportError:
        print("torch/torchvision not importable: Fixtures/torch_cases.json left unchanged")
        return
    write_torch_cases(arr_of, gsrc, sources)


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()).decode()


def write_torch_cases(arr_of, gsrc, sources):
    import torch
    import torchvision
    import torchvision.transforms as T
    import torchvision.transforms.functional as TF

    torch.set_num_threads(1)
    doc = {"torch": torch.__version__, "torchvision": torchvision.__version__}

    # Resize(int) output sizes: the private helper and real Resize calls on PIL images.
    sizes = []
    dims = [(451, 300), (300, 451), (500, 375), (375, 500), (333, 517), (1, 1000), (1000, 1),
            (224, 224), (257, 256), (640, 427), (4000, 3), (3, 7), (1023, 769), (769, 1023)]
    for (w, h) in dims:
        for s in (1, 7, 224, 256, 384, 1000):
            for ms in (None, s + 1, 2 * s, 500):
                if ms is not None and ms <= s:
                    continue
                hh, ww = TF._compute_resized_output_size((h, w), [s], ms)
                if hh < 1 or ww < 1 or max(hh, ww) > 65535:
                    continue
                sizes.append({"w": w, "h": h, "size": s, "max_size": ms, "out_w": ww, "out_h": hh})
    for (w, h) in [(451, 300), (300, 451), (333, 517), (97, 13)]:
        for s in (7, 224, 256):
            out = T.Resize(s, interpolation=T.InterpolationMode.BILINEAR)(Image.new("RGB", (w, h)))
            sizes.append({"w": w, "h": h, "size": s, "max_size": None, "out_w": out.size[0],
                          "out_h": out.size[1], "via": "Resize"})
    doc["resize_sizes"] = sizes

    # CenterCrop on PIL images (including crops larger than the image → zero padding).
    crops = []
    gsrc("cc9x7x3", "noise", 9, 7, 3, 300)
    gsrc("cc10x7x1", "noise", 10, 7, 1, 301)
    gsrc("cc6x6x4", "noise", 6, 6, 4, 302)
    for src, mode in (("cc9x7x3", "RGB"), ("cc10x7x1", "L"), ("cc6x6x4", "RGBA")):
        a = arr_of(src)
        img = Image.fromarray(a[:, :, 0] if mode == "L" else a, mode=mode)
        for cw, ch in [(4, 4), (3, 2), (2, 5), (9, 7), (1, 1), (12, 7), (9, 10), (13, 11), (5, 12), (14, 3), (10, 7), (8, 6)]:
            out = np.asarray(T.CenterCrop((ch, cw))(img)).reshape(ch, cw, a.shape[2])
            crops.append({"src": src, "w": cw, "h": ch, "data": b64(out)})
    doc["center_crops"] = crops

    # torchvision eval pipelines on PIL: Resize(short, filter) + CenterCrop(crop).
    pipes = []
    gsrc("pipe333x517x3", "blocks", 333, 517, 3, 310, block=3)
    gsrc("pipe300x451x3", "noise", 451, 300, 3, 311)
    modes = {"bilinear": T.InterpolationMode.BILINEAR, "bicubic": T.InterpolationMode.BICUBIC,
             "nearest": T.InterpolationMode.NEAREST, "lanczos": T.InterpolationMode.LANCZOS,
             "box": T.InterpolationMode.BOX, "hamming": T.InterpolationMode.HAMMING}
    for src, short, crop, filt in (("pipe333x517x3", 256, 224, "bilinear"), ("pipe333x517x3", 256, 224, "bicubic"),
                                   ("pipe300x451x3", 232, 224, "bicubic"), ("pipe300x451x3", 248, 224, "lanczos"),
                                   ("pipe300x451x3", 256, 224, "nearest"), ("pipe333x517x3", 320, 299, "box"),
                                   ("pipe300x451x3", 236, 224, "hamming")):
        img = Image.fromarray(arr_of(src), mode="RGB")
        out = np.asarray(T.Compose([T.Resize(short, interpolation=modes[filt]), T.CenterCrop(crop)])(img))
        raw = out.tobytes()
        pipes.append({"src": src, "short": short, "crop": crop, "filter": filt, "hash": fnv1a64(raw),
                      "stride": 32, "rows": b64(out[::32])})
    doc["pipelines"] = pipes

    # Float interpolate (NCHW float32) vs Resize of FloatImage: antialias False (bilinear) and
    # True (bilinear, bicubic: PyTorch's antialiased kernels follow Pillow's).
    interps = []
    gsrc("t37x23x3", "fnoise", 37, 23, 3, 320)
    gsrc("t64x48x3", "fnoise", 64, 48, 3, 321)
    gsrc("t200x150x1", "fnoise", 200, 150, 1, 322)
    for src in ("t37x23x3", "t64x48x3", "t200x150x1"):
        a = arr_of(src)
        x = torch.from_numpy(np.ascontiguousarray(a.transpose(2, 0, 1)))[None]
        h, w = a.shape[:2]
        for (ow, oh) in [(w // 2, h // 2), (w // 3 + 1, h // 5 + 1), (2 * w + 3, h + 7), (w, h // 2 + 3), (7, 5)]:
            for mode, aa in (("bilinear", False), ("bilinear", True), ("bicubic", True)):
                y = torch.nn.functional.interpolate(x, size=(oh, ow), mode=mode, align_corners=False, antialias=aa)
                out = y[0].numpy().transpose(1, 2, 0).astype(np.float32)
                stride = max(1, -(-out.nbytes // CAP))
                interps.append({"src": src, "w": ow, "h": oh, "filter": mode, "antialias": aa,
                                "stride": stride, "rows": b64(out[::stride])})
    doc["interpolate"] = interps
    doc["sources"] = {k: v for k, v in sources.items() if k.startswith(("cc", "pipe", "t"))}

    (FIX / "torch_cases.json").write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    print(f"torch_cases.json: {len(sizes)} sizes, {len(crops)} center crops, {len(pipes)} pipelines, {len(interps)} interpolations")


if __name__ == "__main__":
    main()
