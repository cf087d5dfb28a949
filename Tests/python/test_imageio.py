"""Image decoding through the Python binding, checked against Pillow (the oracle).

Mirrors Tests/StalwartImageIOTests (which checks the same files through SHA-256 references,
without Python). ``stalwart.load_image(path_or_bytes, mode)`` returns uint8 arrays shaped like
``np.asarray(PIL.Image)``: ``(H, W)`` for "L", ``(H, W, 3)`` / ``(H, W, 4)``.

Known, bounded differences (see Sources/StalwartImageIO/PNGDecoder.swift): 16-bit RGBA PNGs
are within 1 of Pillow's high byte; in *interlaced* 16-bit RGBA PNGs the colour of pixels whose
16-bit alpha is below 256 is unconstrained (libpng's simplified API only returns them
premultiplied). Two malformed files whose ancillary chunks have bad CRCs are refused by Pillow
but decoded by Stalwart (like libpng); they are compared with Pillow's output for the file with
those chunks removed.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps

from onnx_builder import describe

import stalwart

REPO = Path(__file__).resolve().parents[2]
LOCAL = REPO / "Tests" / "StalwartImageIOTests" / "Fixtures"
MODES = ("RGB", "RGBA", "L")


@pytest.fixture(scope="module")
def load_image():
    return stalwart.load_image


def _suite(fixtures: Path, sub: str) -> list[Path]:
    return sorted((fixtures / "pngsuite" / sub).glob("*.png"))


def _must_reject(path: Path) -> bool:
    if path.parent.parent.name != "pngsuite":
        return False
    return path.name.startswith("x_" if path.parent.name == "malformed" else "x")


def _drop_bad_ancillary(data: bytes) -> bytes:
    out, p = data[:8], 8
    while p + 12 <= len(data):
        n = struct.unpack(">I", data[p:p + 4])[0]
        t, body, crc = data[p + 4:p + 8], data[p + 8:p + 8 + n], data[p + 8 + n:p + 12 + n]
        if (len(crc) == 4 and struct.unpack(">I", crc)[0] == zlib.crc32(t + body)) or not (t[0] & 0x20):
            out += data[p:p + 12 + n]
        p += 12 + n
    return out


def _pillow(data: bytes, mode: str, exif: bool = False) -> np.ndarray:
    try:
        im = Image.open(io.BytesIO(data))
        im.load()
    except Exception:
        im = Image.open(io.BytesIO(_drop_bad_ancillary(data)))
    if exif:
        im = ImageOps.exif_transpose(im)
    return np.asarray(im.convert(mode))


def _rgba16(data: bytes) -> tuple[bool, bool]:
    """(is 16-bit RGBA, is interlaced) from IHDR."""
    return data[24] == 16 and data[25] == 6, data[28] == 1


def _check(got: np.ndarray, want: np.ndarray, data: bytes, mode: str, where: str) -> None:
    assert got.shape == want.shape and got.dtype == np.uint8, where
    if data[:4] != b"\x89PNG" or not _rgba16(data)[0]:
        np.testing.assert_array_equal(got, want, err_msg=where)
        return
    delta = np.abs(got.astype(int) - want.astype(int))
    if _rgba16(data)[1]:  # interlaced: colour of alpha < 256/65535 unconstrained
        alpha = _pillow(data, "RGBA")[..., 3]
        mask = alpha > 0
        delta = delta[mask]
    assert delta.max(initial=0) <= 1, where


def _files(fixtures: Path) -> list[Path]:
    files = _suite(fixtures, "suite") + _suite(fixtures, "malformed")
    return files + sorted((LOCAL / "png").glob("*.png")) + sorted((LOCAL / "jpeg").glob("*.jpg"))


@pytest.mark.filterwarnings("ignore:Palette images with Transparency")
def test_every_file_matches_pillow(load_image, fixtures):
    checked = 0
    for path in _files(fixtures):
        data = path.read_bytes()
        if _must_reject(path):
            for mode in MODES:
                with pytest.raises(stalwart.DecodeError) as info:
                    load_image(data, mode)
                assert "PNG" in str(info.value), f"{path.name}: unclear message {info.value}"
            continue
        for mode in MODES:
            _check(np.asarray(load_image(data, mode)), _pillow(data, mode), data, mode, f"{path.name} {mode}")
            checked += 1
        got = np.asarray(load_image(str(path), "RGB", exif_orientation=True))
        _check(got, _pillow(data, "RGB", exif=True), data, "RGB", f"{path.name} exif")
    assert checked > 500


def test_path_and_bytes_agree_and_errors_name_the_path(load_image, fixtures, tmp_path):
    path = fixtures / "pngsuite" / "suite" / "basn2c08.png"
    np.testing.assert_array_equal(load_image(str(path)), load_image(path.read_bytes()))
    missing = tmp_path / "missing.png"
    with pytest.raises(OSError) as info:
        load_image(str(missing))
    assert str(missing) in str(info.value)
    broken = tmp_path / "broken.png"
    broken.write_bytes(path.read_bytes()[:100])
    with pytest.raises(stalwart.DecodeError) as info:
        load_image(str(broken))
    assert str(broken) in str(info.value)


def test_pixel_limit(load_image, fixtures):
    data = (LOCAL / "jpeg" / "q75_444.jpg").read_bytes()
    with pytest.raises(stalwart.DecodeError, match="decompression-bomb"):
        load_image(data, "RGB", max_pixels=67 * 45 - 1)
    assert np.asarray(load_image(data, "RGB", max_pixels=67 * 45)).shape == (45, 67, 3)


def test_damaged_files_never_crash_the_interpreter(load_image, fixtures, isolated):
    """Each PngSuite file, truncated at 20 random offsets and with bytes flipped at 20 random
    offsets, must decode or raise a StalwartError; a crash would kill the subprocess."""
    files = [str(p) for p in _suite(fixtures, "suite") + _suite(fixtures, "malformed")]
    code = f"""
        import random, stalwart
        files = {files!r}
        rng = random.Random(1234)
        decoded = raised = 0
        for f in files:
            data = open(f, "rb").read()
            variants = [data[:rng.randrange(len(data))] for _ in range(20)]
            for _ in range(20):
                b = bytearray(data)
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
                variants.append(bytes(b))
            for v in variants:
                for mode in ("RGB", "RGBA", "L"):
                    try:
                        stalwart.load_image(v, mode)
                        decoded += 1
                    except stalwart.StalwartError:
                        raised += 1
        print("OK", decoded, raised)
    """
    proc = isolated(code, timeout=600)
    assert proc.returncode == 0 and "OK" in proc.stdout, describe(proc)
