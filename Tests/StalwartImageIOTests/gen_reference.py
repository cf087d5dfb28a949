#!/usr/bin/env python3
"""Generates the pixel references of StalwartImageIOTests from Pillow (the oracle).

Run from the repository root with the project venv (Pillow 13, NumPy):

    /work/venv/bin/python Tests/StalwartImageIOTests/gen_reference.py

It writes, under Tests/StalwartImageIOTests/Fixtures/:

* ``jpeg/*.jpg`` -- small JPEGs written by Pillow from a crop of the shared CC0 photo
  ``fixtures/images/chelsea.png`` (odd sizes; qualities 50/75/95 x subsampling 4:4:4/4:2:2/4:2:0,
  progressive, optimized, restart markers, grayscale, CMYK (Adobe-inverted, as Pillow writes
  it), 1x1 and 17x3, EXIF orientations 1-8 and an XMP orientation, and two files on which
  libjpeg only warns: junk before EOI and one damaged entropy-coded byte), plus ``cjpeg_*.jpg``
  made with libjpeg-turbo's ``cjpeg`` when it is installed (4:1:1, 4:4:0, a mixed sampling
  TurboJPEG 2.x has no constant for, arithmetic coding);
* ``png/*.png`` -- hand-assembled PNGs for cases PngSuite lacks (palette shorter than the
  indices used, tRNS longer than PLTE, gray/RGB tRNS keys including Pillow's low-byte
  comparison, random 16-bit gray/GA/RGBA incl. interlaced, eXIf and XMP orientation);
* ``reference.json`` -- for every fixture and every PngSuite file in ``../shared``: the size
  and the SHA-256 of Pillow's ``Image.open(f).convert(mode).tobytes()`` for RGB, RGBA and L,
  and of ``ImageOps.exif_transpose(im).convert("RGB")``; ``reject`` for files that must fail
  (PngSuite ``x*`` and malformed ``x_*``).  For 16-bit RGBA PNGs (which libpng's simplified
  API cannot return exactly, see PNGDecoder.swift) it also stores Pillow's RGBA bytes
  (base64) so the test can bound the difference.

Two malformed files (``cicp_pq.png``, ``issue#430.png``) have ancillary chunks with bad CRCs;
Pillow refuses them, libpng and image-rs skip such chunks.  Their reference is Pillow's output
for the same bytes with the damaged ancillary chunks removed.

The test never runs Python: the fixtures and the JSON are committed.  Re-run this script
only to refresh them (e.g. for a new Pillow); the JPEG bytes change with Pillow's libjpeg.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, features

HERE = Path(__file__).resolve().parent
FIX = HERE / "Fixtures"
REPO = HERE.parents[1]
SHARED = REPO.parent / "shared" / "fixtures"
if not SHARED.exists():
    SHARED = Path("/work/shared/fixtures")
MODES = ("RGB", "RGBA", "L")


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def chunk(t: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + t + body + struct.pack(">I", zlib.crc32(t + body) & 0xFFFFFFFF)


def png_bytes(width, height, depth, ctype, rows: list[bytes], extra_before=(), extra_after=(), interlace=0,
              plte=None, trns=None) -> bytes:
    """A PNG from already-packed scanlines (filter type 0). Interlaced images take
    ``rows`` as the concatenated Adam7 pass scanlines."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, ctype, 0, 0, interlace)
    raw = b"".join(b"\x00" + r for r in rows)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    for t, b in extra_before:
        out += chunk(t, b)
    if plte is not None:
        out += chunk(b"PLTE", plte)
    if trns is not None:
        out += chunk(b"tRNS", trns)
    out += chunk(b"IDAT", zlib.compress(raw, 9))
    for t, b in extra_after:
        out += chunk(t, b)
    return out + chunk(b"IEND", b"")


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def adam7_rows(arr: np.ndarray) -> list[bytes]:
    rows = []
    for x0, y0, dx, dy in ADAM7:
        sub = arr[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        rows += [r.tobytes() for r in sub]
    return rows


def make_pngs(rng) -> dict[str, bytes]:
    files = {}
    # Palette of 2 entries, indices up to 255: Pillow reads missing entries as opaque black.
    idx = np.array([[0, 1, 2, 3, 200, 255, 1, 0, 7]], dtype=np.uint8).repeat(3, axis=0)
    files["pal_short.png"] = png_bytes(9, 3, 8, 3, [r.tobytes() for r in idx], plte=bytes([255, 0, 0, 0, 0, 255]))
    # tRNS with more entries than PLTE (alpha of indices 2 and 3 apply to black).
    idx = np.array([[0, 1, 2, 3, 4]], dtype=np.uint8).repeat(2, axis=0)
    files["pal_trns_long.png"] = png_bytes(5, 2, 8, 3, [r.tobytes() for r in idx],
                                           plte=bytes([10, 20, 30, 40, 50, 60]), trns=bytes([255, 128, 64, 0]))
    # 4-bit palette with 3 entries.
    packed = bytes([0x01, 0x23, 0xF0])
    files["pal4_short.png"] = png_bytes(5, 1, 4, 3, [packed], plte=bytes([1, 2, 3, 4, 5, 6, 7, 8, 9]))
    # 8-bit gray with a tRNS key that occurs.
    g = rng.integers(70, 85, size=(6, 7), dtype=np.uint8)
    files["gray8_trns.png"] = png_bytes(7, 6, 8, 0, [r.tobytes() for r in g], trns=struct.pack(">H", 77))
    # 2-bit gray with tRNS 2: Pillow compares the raw key with scaled pixels (no match).
    files["gray2_trns.png"] = png_bytes(4, 2, 2, 0, [bytes([0b00011011]), bytes([0b10101010])], trns=struct.pack(">H", 2))
    # 8-bit RGB whose tRNS samples have a high byte: Pillow compares only the low bytes.
    rgb = np.zeros((2, 3, 3), dtype=np.uint8)
    rgb[0, 0] = (16, 32, 48)
    rgb[1, 2] = (16, 32, 48)
    rgb[0, 1] = (1, 2, 3)
    files["rgb8_trns_hi.png"] = png_bytes(3, 2, 8, 2, [r.tobytes() for r in rgb], trns=struct.pack(">HHH", 0x0110, 0x0120, 0x0130))
    # Random 16-bit samples (big-endian), plain and interlaced.
    for name, ctype, ch in (("gray16", 0, 1), ("ga16", 4, 2), ("rgba16", 6, 4), ("rgb16", 2, 3)):
        a = rng.integers(0, 65536, size=(19, 23, ch), dtype=np.uint32).astype(">u2")
        if ch in (2, 4):  # make some pixels opaque / transparent / nearly so
            a[0, :, ch - 1] = 65535
            a[1, :, ch - 1] = 0
            a[2, :, ch - 1] = rng.integers(1, 300, size=23)
        if ch == 1:
            a[0, :, 0] = rng.integers(0, 300, size=23)
        files[f"{name}_random.png"] = png_bytes(23, 19, 16, ctype, [r.tobytes() for r in a])
        files[f"{name}_random_interlaced.png"] = png_bytes(23, 19, 16, ctype, adam7_rows(a), interlace=1)
    # Orientation in a PNG eXIf chunk (6) and in iTXt XMP (8).
    base = np.arange(5 * 3 * 3, dtype=np.uint8).reshape(3, 5, 3) * 5
    ex = Image.Exif()
    ex[0x0112] = 6
    files["exif6.png"] = png_bytes(5, 3, 8, 2, [r.tobytes() for r in base], extra_before=[(b"eXIf", ex.tobytes())])
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description tiff:Orientation="8"/></rdf:RDF></x:xmpmeta>'
    itxt = b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp
    files["xmp8.png"] = png_bytes(5, 3, 8, 2, [r.tobytes() for r in base], extra_before=[(b"iTXt", itxt)])
    return files


def make_jpegs(photo: Image.Image) -> dict[str, bytes]:
    files = {}
    crop = photo.crop((180, 60, 180 + 67, 60 + 45))
    for q in (50, 75, 95):
        for ss, name in ((0, "444"), (1, "422"), (2, "420")):
            b = io.BytesIO()
            crop.save(b, "JPEG", quality=q, subsampling=ss)
            files[f"q{q}_{name}.jpg"] = b.getvalue()

    def save(name, im, **kw):
        b = io.BytesIO()
        im.save(b, "JPEG", **kw)
        files[name] = b.getvalue()

    save("progressive_420.jpg", crop, quality=85, progressive=True)
    save("optimized_444.jpg", crop, quality=90, optimize=True, subsampling=0)
    save("restart_420.jpg", crop, quality=80, restart_marker_blocks=4)
    save("gray.jpg", crop.convert("L"), quality=90)
    save("cmyk.jpg", crop.convert("CMYK"), quality=90)
    save("tiny_1x1.jpg", crop.crop((10, 10, 11, 11)), quality=75)
    save("odd_17x3.jpg", crop.crop((5, 5, 22, 8)), quality=75)
    small = crop.crop((0, 0, 13, 7))
    for o in range(1, 9):
        ex = Image.Exif()
        ex[0x0112] = o
        save(f"orient{o}.jpg", small, quality=90, subsampling=0, exif=ex.tobytes())
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description><tiff:Orientation>6</tiff:Orientation></rdf:Description></rdf:RDF></x:xmpmeta>'
    save("xmp_orient6.jpg", small, quality=90, subsampling=0, xmp=xmp)
    # libjpeg warnings that Pillow ignores: junk before EOI, and a damaged entropy-coded byte.
    base = files["q75_420.jpg"]
    files["warn_extraneous.jpg"] = base[:-2] + b"\x00\x01\x02" + base[-2:]
    sos = base.index(b"\xff\xda")
    for pos in range(sos + 40, len(base) - 10):
        bad = bytearray(base)
        bad[pos] ^= 0x5A
        if 0xFF in bad[pos - 1:pos + 2]:
            continue
        try:
            Image.open(io.BytesIO(bytes(bad))).load()
        except Exception:
            continue
        files["warn_corrupt.jpg"] = bytes(bad)
        break
    return files


def make_cjpegs(photo: Image.Image) -> dict[str, bytes]:
    """JPEGs Pillow cannot write, made with libjpeg-turbo's cjpeg (Debian libjpeg-turbo-progs):
    4:1:1, 4:4:0, a mixed sampling without a TurboJPEG constant, and arithmetic coding. Without
    cjpeg the committed files are kept."""
    variants = {"cjpeg_411.jpg": ["-sample", "4x1,1x1,1x1"], "cjpeg_440.jpg": ["-sample", "1x2,1x1,1x1"],
                "cjpeg_mixed.jpg": ["-sample", "2x1,1x2,1x1"], "cjpeg_arith.jpg": ["-arithmetic"]}
    if shutil.which("cjpeg") is None:
        return {n: (FIX / "jpeg" / n).read_bytes() for n in variants if (FIX / "jpeg" / n).exists()}
    files = {}
    with tempfile.TemporaryDirectory() as d:
        ppm = Path(d) / "crop.ppm"
        photo.crop((180, 60, 180 + 67, 60 + 45)).save(ppm)
        for name, args in variants.items():
            files[name] = subprocess.run(["cjpeg", "-quality", "85", *args, str(ppm)], check=True,
                                         capture_output=True).stdout
    return files


def drop_bad_ancillary(data: bytes) -> bytes:
    out, p = data[:8], 8
    while p + 12 <= len(data):
        n = struct.unpack(">I", data[p:p + 4])[0]
        t, body = data[p + 4:p + 8], data[p + 8:p + 8 + n]
        crc = data[p + 8 + n:p + 12 + n]
        good = len(crc) == 4 and struct.unpack(">I", crc)[0] == zlib.crc32(t + body) & 0xFFFFFFFF
        if good or not (t[0] & 0x20):
            out += data[p:p + 12 + n]
        p += 12 + n
    return out


def reference(data: bytes, keep_pixels: bool) -> dict:
    im = Image.open(io.BytesIO(data))
    entry = {"size": list(im.size), "pillow_mode": im.mode}
    for m in MODES:
        conv = Image.open(io.BytesIO(data)).convert(m)
        entry[m] = sha(conv.tobytes())
        if keep_pixels and m == "RGBA":
            entry["RGBA_b64"] = base64.b64encode(conv.tobytes()).decode()
    t = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    entry["RGB_exif"] = sha(t.convert("RGB").tobytes())
    entry["size_exif"] = list(t.size)
    return entry


def is_rgba16(data: bytes) -> bool:
    return data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 26 and data[12:16] == b"IHDR" and data[24] == 16 and data[25] == 6


def main() -> int:
    rng = np.random.default_rng(20260529)
    (FIX / "png").mkdir(parents=True, exist_ok=True)
    (FIX / "jpeg").mkdir(parents=True, exist_ok=True)
    refs: dict[str, dict] = {}
    photo = Image.open(SHARED / "images" / "chelsea.png").convert("RGB")
    for name, data in sorted(make_pngs(rng).items()):
        (FIX / "png" / name).write_bytes(data)
        refs[f"fixtures/png/{name}"] = reference(data, is_rgba16(data))
    for name, data in sorted({**make_jpegs(photo), **make_cjpegs(photo)}.items()):
        (FIX / "jpeg" / name).write_bytes(data)
        refs[f"fixtures/jpeg/{name}"] = reference(data, False)
    for sub in ("suite", "malformed"):
        for f in sorted((SHARED / "pngsuite" / sub).glob("*.png")):
            key = f"shared/pngsuite/{sub}/{f.name}"
            data = f.read_bytes()
            if (sub == "suite" and f.name.startswith("x")) or (sub == "malformed" and f.name.startswith("x_")):
                refs[key] = {"reject": True}
                continue
            try:
                refs[key] = reference(data, is_rgba16(data))
            except Exception as e:  # Pillow refuses bad ancillary CRCs; libpng skips those chunks
                refs[key] = reference(drop_bad_ancillary(data), is_rgba16(data))
                refs[key]["note"] = (f"Pillow refuses the file ({type(e).__name__}); reference computed with the "
                                     "damaged ancillary chunks removed")
    doc = {
        "generator": "Tests/StalwartImageIOTests/gen_reference.py",
        "pillow": Image.__version__,
        "libjpeg_turbo": features.version("libjpeg_turbo"),
        "sha256_of": "Image.open(f).convert(mode).tobytes(); RGB_exif: ImageOps.exif_transpose(im).convert('RGB')",
        "files": refs,
    }
    (FIX / "reference.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    total = sum(p.stat().st_size for p in FIX.rglob("*") if p.is_file())
    print(f"{len(refs)} references, fixtures {total} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
