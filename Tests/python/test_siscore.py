"""SI-Score synthesis, metadata, bad input and per-factor scoring.

Oracle: ``siscore_oracle.py`` — a NumPy + Pillow re-implementation of google-research/si-score's
generator written from its description (``Image.resize(BILINEAR)``, ``Image.rotate(angle,
BICUBIC, expand=True)``, ``paste`` with the alpha mask, ``csv.writer``). Tolerances: composites
max |Δ| ≤ 2 (the issue's bound; Stalwart reproduces Pillow's integer arithmetic, so 0 is
expected and the observed maximum is reported); ``pct_inside_image`` exact; ``metadata.csv``
byte-identical; per-factor accuracies recomputed from the stored per-image rows equal to 1e-12.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from onnx_builder import BINDINGS, REPO

Image = pytest.importorskip("PIL.Image")
import siscore_oracle as oracle  # noqa: E402

SAMPLES = REPO / "examples" / "data" / "siscore"
MODEL = REPO / "models" / "efficientnet_lite0.onnx"


@pytest.fixture(scope="module")
def stalwart():
    import sys

    sys.path.insert(0, str(BINDINGS))
    import stalwart as s

    return s


def cli() -> str:
    path = os.environ.get("STALWART_CLI") or str(REPO / ".build" / "release" / "stalwart")
    if not Path(path).is_file():
        pytest.skip(f"no stalwart CLI at {path}")
    return path


def random_rgba(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """An object-like RGBA image: a soft-edged blob with partial alpha and noisy colour."""
    yy, xx = np.mgrid[0:h, 0:w]
    d = ((yy - h / 2) / (h / 2)) ** 2 + ((xx - w / 2) / (w / 2)) ** 2
    alpha = np.clip((1.1 - d) * 255 * rng.uniform(1, 4), 0, 255)
    alpha[rng.random((h, w)) < 0.05] = rng.integers(0, 256)
    rgb = rng.integers(0, 256, (h, w, 3))
    return np.dstack([rgb, alpha]).astype(np.uint8)


def sample_foregrounds() -> list[np.ndarray]:
    return [np.asarray(Image.open(p).convert("RGBA")) for p in sorted(SAMPLES.glob("foregrounds/*/*.png"))[:4]]


def test_composite_parity_random(stalwart):
    """50 random parameter sets (objects: bundled samples and synthetic RGBA with partial
    alpha; backgrounds of random non-square sizes; areas, centres, angles incl. the 0/90/180/270
    fast paths; resolution None or 64…320) against Pillow."""
    rng = np.random.default_rng(8)
    fgs = sample_foregrounds()
    worst = 0
    for case in range(50):
        fg = fgs[case % len(fgs)] if case % 2 == 0 and fgs else random_rgba(rng, int(rng.integers(8, 200)), int(rng.integers(8, 200)))
        bh, bw = int(rng.integers(40, 400)), int(rng.integers(40, 400))
        bg = rng.integers(0, 256, (bh, bw, 3), dtype=np.uint8)
        res = None if case % 3 == 0 else int(rng.integers(64, 321))
        area = float(rng.uniform(0.01, 1.0))
        x, y = float(rng.uniform(0, 1)), float(rng.uniform(0, 1))
        angle = float(rng.choice([0, 90, 180, 270, -90])) if case % 5 == 0 else float(rng.uniform(-360, 720))
        pil_bg = oracle.prepare_background(Image.fromarray(bg), res)
        want, want_pct = oracle.composite(Image.fromarray(fg), pil_bg, area, x, y, angle)
        got, pct = stalwart.siscore.composite(fg, bg, area, x, y, angle, resolution=res)
        assert got.shape == want.shape, case
        diff = int(np.abs(got.astype(int) - want.astype(int)).max())
        worst = max(worst, diff)
        assert diff <= 2, (case, area, x, y, angle, res, diff)
        assert pct == want_pct, (case, pct, want_pct)
    print(f"max |Δ| over 50 composites: {worst}")


@pytest.mark.parametrize("fg_shape, bg_shape, area, angle", [
    ((1, 1), (40, 40), 0.5, 0.0),          # a 1-pixel object scaled up
    ((1, 1), (40, 40), 0.3, 33.0),
    ((1, 1), (4, 4), 1 / 16, 45.0),         # stays 1×1, rotated
    ((7, 3), (33, 51), 0.4, 90.0),         # odd sizes, the transposes
    ((3, 7), (51, 33), 0.7, 180.0),
    ((9, 5), (17, 17), 0.9, 270.0),
    ((5, 9), (29, 31), 0.2, 0.0),
    ((13, 11), (64, 48), 0.35, 12.345),     # arbitrary angles, odd sizes
    ((31, 17), (97, 101), 0.5, 359.99),
    ((2, 1), (50, 50), 0.6, 1e-3),
    ((101, 67), (257, 255), 0.45, 225.0),
    ((40, 60), (300, 200), 0.05, 300.5),   # downscaled object, partial alpha
])
def test_composite_exact_small_odd_sizes(stalwart, fg_shape, bg_shape, area, angle):
    """Exact (max |Δ| = 0) against Pillow on 1-pixel and odd-sized partially transparent objects
    (alpha 0, 255 and in between), the 0/90/180/270 transposes and arbitrary angles, at several
    centres including the corners (pasted partly outside)."""
    rng = np.random.default_rng(sum(fg_shape) * 1000 + int(angle))
    fg = random_rgba(rng, *fg_shape) if min(fg_shape) > 2 else rng.integers(0, 256, (*fg_shape, 4), dtype=np.uint8)
    if min(fg_shape) <= 2:
        fg[..., 3] = rng.choice([0, 77, 255], fg_shape)
    bg = rng.integers(0, 256, (*bg_shape, 3), dtype=np.uint8)
    pil_bg = oracle.prepare_background(Image.fromarray(bg), None)
    for x, y in [(0.5, 0.5), (0.0, 0.0), (1.0, 0.3), (0.13, 0.97)]:
        want, want_pct = oracle.composite(Image.fromarray(fg), pil_bg, area, x, y, angle)
        got, pct = stalwart.siscore.composite(fg, bg, area, x, y, angle)
        assert np.array_equal(got, want), (fg_shape, bg_shape, area, angle, x, y,
                                           int(np.abs(got.astype(int) - want.astype(int)).max()))
        assert pct == want_pct


ONE_CPU_SCRIPT = """
import os, sys
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
sys.path.insert(0, sys.argv[1])
import numpy as np, stalwart
d = np.load(sys.argv[2])
out, pct = stalwart.siscore.composite(d["fg"], d["bg"], 0.6, 0.45, 0.55, 37.5)
np.save(sys.argv[3], out)
"""


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
def test_composite_one_thread_equals_pool(stalwart, tmp_path):
    """A composite computed in a process pinned to one CPU (Stalwart's pool then has one thread)
    is byte-identical to the one spread over this process's pool, and to Pillow."""
    rng = np.random.default_rng(5)
    fg = random_rgba(rng, 333, 251)
    bg = rng.integers(0, 256, (300, 300, 3), dtype=np.uint8)
    np.savez(tmp_path / "in.npz", fg=fg, bg=bg)
    subprocess.run([sys.executable, "-c", ONE_CPU_SCRIPT, str(BINDINGS), str(tmp_path / "in.npz"),
                    str(tmp_path / "out.npy")], check=True, env=os.environ.copy())
    one = np.load(tmp_path / "out.npy")
    pooled, _ = stalwart.siscore.composite(fg, bg, 0.6, 0.45, 0.55, 37.5)
    want, _ = oracle.composite(Image.fromarray(fg), oracle.prepare_background(Image.fromarray(bg), None),
                               0.6, 0.45, 0.55, 37.5)
    assert np.array_equal(one, pooled)
    assert np.array_equal(pooled, want)


def test_composite_without_alpha_is_opaque(stalwart):
    rng = np.random.default_rng(1)
    fg = rng.integers(0, 256, (60, 40, 3), dtype=np.uint8)
    bg = rng.integers(0, 256, (100, 120, 3), dtype=np.uint8)
    got, _ = stalwart.siscore.composite(fg, bg, 0.2, 0.4, 0.6, 30)
    want, _ = oracle.composite(Image.fromarray(fg).convert("RGBA"), oracle.prepare_background(Image.fromarray(bg), None),
                               0.2, 0.4, 0.6, 30)
    assert np.array_equal(got, want)


@pytest.mark.parametrize("kwargs, match", [
    (dict(area=0.0), "area"), (dict(area=-0.1), "area"), (dict(area=1.5), "area"), (dict(area=float("nan")), "area"),
    (dict(x=1.2), "centre"), (dict(y=-0.1), "centre"), (dict(angle=float("inf")), "angle"),
    (dict(resolution=-3), "resolution"), (dict(area=1e-9), "pixel"),
])
def test_composite_bad_arguments(stalwart, kwargs, match):
    args = dict(area=0.3, x=0.5, y=0.5, angle=0.0)
    args.update(kwargs)
    fg = np.full((20, 20, 4), 200, np.uint8)
    bg = np.zeros((50, 50, 3), np.uint8)
    with pytest.raises(stalwart.InvalidArgument, match=match):
        stalwart.siscore.composite(fg, bg, **args)


def test_composite_bad_images(stalwart):
    good_fg, good_bg = np.full((20, 20, 4), 200, np.uint8), np.zeros((50, 50, 3), np.uint8)
    for fg, bg in [(np.zeros((0, 5, 4), np.uint8), good_bg), (good_fg, np.zeros((5, 0, 3), np.uint8)),
                   (np.zeros((5, 5, 2), np.uint8), good_bg), (good_fg.astype(np.float32), good_bg)]:
        with pytest.raises(stalwart.InvalidArgument):
            stalwart.siscore.composite(fg, bg, 0.3, 0.5, 0.5)


def small_samples(tmp_path: Path, n_classes: int = 3, n_bg: int = 4) -> Path:
    root = tmp_path / "samples"
    fgs = sorted(SAMPLES.glob("foregrounds/*/*.png"))[:n_classes]
    for p in fgs:
        d = root / "foregrounds" / p.parent.name
        d.mkdir(parents=True)
        im = Image.open(p)
        im.thumbnail((120, 120))
        im.save(d / p.name)
    (root / "backgrounds").mkdir(parents=True)
    for p in sorted(SAMPLES.glob("backgrounds/*"))[:n_bg]:
        im = Image.open(p).convert("RGB")
        im.thumbnail((160, 160))
        im.save(root / "backgrounds" / (p.stem + ".jpg"), quality=95)
    return root


SWEEP = dict(areas=[0.1, 0.45, 1.0], angles=[0, 30, 90], centres=[(0.5, 0.5), (0.05, 0.9), (1.0, 0.0)],
             resolution=96, backgrounds=2, min_pct_inside=0.5, seed=7)


def oracle_generator(root: Path, **kw) -> oracle.Generator:
    return oracle.Generator(root / "foregrounds", root / "backgrounds", kw["centres"], kw["areas"], kw["angles"],
                            kw["resolution"], kw["backgrounds"], kw["min_pct_inside"], kw["seed"])


def test_metadata_identical(stalwart, tmp_path):
    root = small_samples(tmp_path)
    want = oracle_generator(root, **SWEEP)
    got = stalwart.siscore.metadata(samples=root, preset="size", **SWEEP)
    assert got == want.metadata_csv()
    assert 0 < len(want.rows) < 3 * 3 * 3 * 3 * 2, "the sweep must both keep and drop combinations"


def test_location_preset_metadata(stalwart, tmp_path):
    """The paper's location preset: 21×21 centres i·0.05 (NumPy's arange values), area 0.2,
    500 px, min_pct_inside 0 — the rows equal the oracle's for the same pairing seed."""
    root = small_samples(tmp_path, n_classes=1, n_bg=2)
    steps = np.arange(0, 1.05, 0.05)
    coords = [(float(a), float(b)) for a in steps for b in steps]
    want = oracle.Generator(root / "foregrounds", root / "backgrounds", coords, [0.2], [0], 500, 2, 0.0, 0)
    got = stalwart.siscore.metadata(samples=root, preset="location")
    assert got == want.metadata_csv()
    assert got.count("\r\n") == 1 + 21 * 21 * 2


def test_generate_layout_and_pixels(stalwart, tmp_path):
    root = small_samples(tmp_path)
    out = tmp_path / "out"
    summary = stalwart.siscore.generate(out, samples=root, preset="size", **SWEEP)
    want = oracle_generator(root, **SWEEP)
    assert summary["written"] == len(want.rows)
    assert summary["skipped"] == 3 * 3 * 3 * 3 * 2 - len(want.rows)
    assert (out / "metadata.csv").read_bytes().decode() == want.metadata_csv()
    assert (out / "foreground_classes_metadata_indices.csv").read_text().splitlines()[1:] == \
        [f"{i},{c}" for i, c in enumerate(want.classes)]
    imagenet = {"bagel": 931, "koala": 105, "lemon": 951, "printer": 742, "starfish": 327, "strawberry": 949,
                "toaster": 859, "vase": 883, "zebra": 340}
    assert (out / "foreground_classes.csv").read_text().splitlines()[1:] == [f"{imagenet[c]},{c}" for c in want.classes]
    assert (out / "backgrounds.csv").read_text().splitlines()[1:] == [f"{i},{b}" for i, b in enumerate(want.bg_files)]
    worst = 0
    for row in want.rows:
        path = out / want.classes[row["c"]] / f"{row['id']}.jpg"
        got = np.asarray(Image.open(path).convert("RGB")).astype(int)
        buf = io.BytesIO()
        Image.fromarray(want.render(row)).save(buf, format="JPEG")   # Pillow's defaults: quality 75, 4:2:0
        ref = np.asarray(Image.open(buf).convert("RGB")).astype(int)
        worst = max(worst, int(np.abs(got - ref).max()))
    # Same composite, both encoded by libjpeg-turbo at quality 75: identical decoded pixels.
    assert worst <= 2, worst


def test_generate_bad_folders(stalwart, tmp_path):
    empty = tmp_path / "empty"
    (empty / "foregrounds").mkdir(parents=True)
    (empty / "backgrounds").mkdir()
    with pytest.raises(stalwart.InvalidArgument, match="no foreground"):
        stalwart.siscore.generate(tmp_path / "o1", samples=empty)
    with pytest.raises(stalwart.StalwartIOError):
        stalwart.siscore.generate(tmp_path / "o2", samples=tmp_path / "missing")
    root = small_samples(tmp_path, n_classes=1, n_bg=1)
    with pytest.raises(stalwart.InvalidArgument, match="backgrounds per object"):
        stalwart.siscore.generate(tmp_path / "o3", samples=root)        # 2 per object, 1 background
    broken = tmp_path / "broken"
    (broken / "foregrounds" / "koala").mkdir(parents=True)
    good = io.BytesIO()
    Image.new("RGBA", (64, 64), (9, 9, 9, 128)).save(good, format="PNG")
    (broken / "foregrounds" / "koala" / "k.png").write_bytes(good.getvalue()[:70])     # truncated PNG
    (broken / "backgrounds").mkdir()
    for i in range(2):
        Image.new("RGB", (50, 50)).save(broken / "backgrounds" / f"b{i}.jpg")
    with pytest.raises(stalwart.DecodeError, match="k.png"):
        stalwart.siscore.generate(tmp_path / "o4", samples=broken)
    unknown = tmp_path / "unknown"
    (unknown / "foregrounds" / "spaceship").mkdir(parents=True)
    Image.new("RGBA", (20, 20), (1, 2, 3, 255)).save(unknown / "foregrounds" / "spaceship" / "s.png")
    (unknown / "backgrounds").mkdir()
    for i in range(2):
        Image.new("RGB", (50, 50)).save(unknown / "backgrounds" / f"b{i}.jpg")
    with pytest.raises(stalwart.InvalidArgument, match="spaceship"):
        stalwart.siscore.generate(tmp_path / "o5", samples=unknown)
    with pytest.raises(stalwart.InvalidArgument, match="area"):
        stalwart.siscore.generate(tmp_path / "o6", samples=root, backgrounds=1, areas=[0.5, 0])
    with pytest.raises(stalwart.InvalidArgument, match="preset"):
        stalwart.siscore.generate(tmp_path / "o7", samples=root, backgrounds=1, preset="diagonal")


def recompute(db: str, run_id: int) -> dict:
    """robustness_metrics' synthetic metric from the stored rows: factors from each row's params."""
    con = sqlite3.connect(db)
    rows = con.execute("SELECT params, correct1, correct5 FROM predictions WHERE run_id = ? AND corruption = '' "
                       "AND severity = 0", (run_id,)).fetchall()
    con.close()
    return oracle.group_scores([(json.loads(p), bool(c1), bool(c5)) for p, c1, c5 in rows])


def test_eval_in_memory_scores(stalwart, tmp_path):
    if not MODEL.is_file():
        pytest.skip("models/efficientnet_lite0.onnx not found")
    root = small_samples(tmp_path, n_classes=3, n_bg=4)
    db = str(tmp_path / "r.sqlite")
    res = stalwart.siscore.evaluate(MODEL, samples=root, preset="size", areas=[0.1, 0.3, 0.6], backgrounds=2,
                                    resolution=128, db=db, threads=2)
    assert res.evaluated == 3 * 3 * 2 and len(res.run_ids) == 1
    want = recompute(db, res.run_ids[0])
    got = stalwart.siscore.scores(res)
    assert set(want) == {"size", "size_average", "size_average_top5"}
    assert [(a, t1, t5, n) for a, t1, t5, n in got["size"]] == \
        [(a, *want["size"][a]) for a in sorted(want["size"])]
    assert got["averages"]["size_average"] == pytest.approx(want["size_average"], abs=1e-12)
    assert got["averages"]["size_average_top5"] == pytest.approx(want["size_average_top5"], abs=1e-12)
    # The same sweep written to disk and read back (1000-way labels) gives the same rows.
    out = tmp_path / "written"
    stalwart.siscore.generate(out, samples=root, preset="size", areas=[0.1, 0.3, 0.6], backgrounds=2, resolution=128)
    res2 = stalwart.evaluate(MODEL, out, db=str(tmp_path / "r2.sqlite"), label_space="imagenet", threads=2)
    a = {r["sample"]: (r["top1"], r["correct1"]) for r in res.predictions()}
    b = {r["sample"]: (r["top1"], r["correct1"]) for r in res2.predictions()}
    assert a == b
    got2 = {r["metric"]: r["value"] for r in res2.aggregates(res2.run_ids[0]) if r["metric"].startswith("siscore:")}
    assert got2["siscore:size_average"] == pytest.approx(want["size_average"], abs=1e-12)


def test_cli_eval_plots_and_report(tmp_path):
    exe = cli()
    if not MODEL.is_file():
        pytest.skip("models/efficientnet_lite0.onnx not found")
    root = small_samples(tmp_path, n_classes=2, n_bg=2)
    db, plots, html = tmp_path / "r.sqlite", tmp_path / "plots", tmp_path / "report.html"
    for preset, extra in [("location", ["--grid", "3"]), ("rotation", ["--angles", "0,90,180", "--areas", "0.3"])]:
        out = subprocess.run([exe, "siscore", "eval", "--model", str(MODEL), "--samples", str(root), "--preset", preset,
                              "--resolution", "96", "--db", str(db), "--plots", str(plots), "--report", str(html), "--quiet",
                              *extra], capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr
        assert "average top-1" in out.stdout
    pngs = sorted(plots.glob("*.png"))
    assert {p.name.rsplit("-", 1)[1] for p in pngs} == {"location.png", "rotation.png"}
    for p in pngs:
        im = Image.open(p)
        im.verify()
        assert im.format == "PNG" and im.size[0] >= 400
    doc = html.read_text()
    ET.fromstring(doc.replace("<!DOCTYPE html>", ""))      # well-formed XHTML
    assert 'data-plot="siscore-location"' in doc and 'data-plot="siscore-rotation"' in doc
    root_el = ET.fromstring(doc.replace("<!DOCTYPE html>", ""))
    svgs = [e for e in root_el.iter("{http://www.w3.org/2000/svg}svg") if e.get("data-plot", "").startswith("siscore")]
    assert len(svgs) == 2
    cells = [r for r in svgs[0].iter("{http://www.w3.org/2000/svg}rect") if r.find("{http://www.w3.org/2000/svg}title") is not None]
    assert len(cells) == 9   # the 3×3 location grid


def test_cli_generate(tmp_path):
    exe = cli()
    root = small_samples(tmp_path, n_classes=2, n_bg=2)
    out = subprocess.run([exe, "siscore", "generate", "--samples", str(root), "--preset", "rotation", "--out",
                          str(tmp_path / "rot"), "--limit", "5", "--quiet"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = (tmp_path / "rot" / "metadata.csv").read_text().splitlines()
    assert lines[0].split(",") == ["image_id", "x_coord", "y_coord", "area", "rotation", "foreground_class",
                                   "foreground_instance", "background", "bg_resolution_width", "bg_resolution_height",
                                   "pct_inside_image"]
    assert len(lines) == 6 and len(list((tmp_path / "rot").glob("*/*.jpg"))) == 5
    bad = subprocess.run([exe, "siscore", "generate", "--samples", str(root), "--areas", "2", "--out", str(tmp_path / "x")],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "area" in bad.stderr


def test_cli_generate_threads_identical(tmp_path):
    """`siscore generate --threads 1` and the default (one thread per core) write byte-identical
    images and metadata (a sweep with rotations, several areas and reused transformed objects)."""
    exe = cli()
    root = small_samples(tmp_path, n_classes=3, n_bg=2)
    outs = []
    for threads in ("1", "0"):
        out = tmp_path / f"t{threads}"
        r = subprocess.run([exe, "siscore", "generate", "--samples", str(root), "--preset", "rotation", "--out", str(out),
                            "--limit", "40", "--threads", threads, "--quiet"], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        outs.append(out)
    files = sorted(p.relative_to(outs[0]) for p in outs[0].rglob("*") if p.is_file())
    assert len([f for f in files if f.suffix == ".jpg"]) == 40
    assert files == sorted(p.relative_to(outs[1]) for p in outs[1].rglob("*") if p.is_file())
    for f in files:
        assert (outs[0] / f).read_bytes() == (outs[1] / f).read_bytes(), f
