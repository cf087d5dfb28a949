"""Independent recomputation of `stalwart eval` aggregates from the stored per-image rows:
plain SQL to read them, NumPy for the arithmetic (no Stalwart code)."""
from __future__ import annotations

import sqlite3

import numpy as np

#: AlexNet's errors per corruption averaged over severities, as issue 5 tabulates them (3 decimals).
ALEXNET = {
    "gaussian_noise": 0.886, "shot_noise": 0.894, "impulse_noise": 0.923, "defocus_blur": 0.820,
    "glass_blur": 0.826, "motion_blur": 0.786, "zoom_blur": 0.798, "snow": 0.867, "frost": 0.827,
    "fog": 0.819, "brightness": 0.565, "contrast": 0.853, "elastic_transform": 0.646,
    "pixelate": 0.718, "jpeg_compression": 0.607,
}
ALEXNET_CLEAN = 0.4348


def rows(db: str, run_id: int) -> list[dict]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM predictions WHERE run_id = ?", (run_id,))]
    finally:
        con.close()


def ece(conf: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    """Expected calibration error with equal-width bins on (0, 1] (confidence 1 in the last)."""
    idx = np.minimum((conf * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.sum() / len(conf) * abs(correct[m].mean() - conf[m].mean())
    return float(total)


def group_metrics(group: list[dict]) -> dict[str, float]:
    out = {"confidence": float(np.mean([r["confidence"] for r in group]))}
    labelled = [r for r in group if r["label"] >= 0]
    if labelled:
        c1 = np.array([r["correct1"] for r in labelled], float)
        c5 = np.array([r["correct5"] for r in labelled], float)
        p = np.array([r["p_label"] for r in labelled])
        lp = np.array([r["log_p_label"] for r in labelled])
        sq = np.array([r["sum_sq"] for r in labelled])
        conf = np.array([r["confidence"] for r in labelled])
        out.update(top1=c1.mean(), top5=c5.mean(), nll=float(-lp.mean()), brier=float(np.mean(sq - 2 * p + 1)),
                   ece=ece(conf, c1))
        # p_label and log_p_label agree.
        np.testing.assert_allclose(np.log(np.maximum(p, 1e-300)), lp, rtol=1e-6, atol=1e-6)
    return out


def recompute(db: str, run_id: int) -> dict[tuple[str, int, str], float]:
    """(corruption, severity, metric) -> value, for the metrics `Aggregation` stores."""
    rs = rows(db, run_id)
    groups: dict[tuple[str, int], list[dict]] = {}
    for r in rs:
        groups.setdefault((r["corruption"], r["severity"]), []).append(r)
    out = {}
    for (c, s), g in groups.items():
        for k, v in group_metrics(g).items():
            out[(c, s, k)] = v
    clean = {r["sample"]: r["top1"] for r in groups.get(("", 0), [])}
    if clean:
        for (c, s), g in groups.items():
            if c:
                m = [r for r in g if r["sample"] in clean]
                if m:
                    out[(c, s, "flip_rate")] = float(np.mean([clean[r["sample"]] != r["top1"] for r in m]))
    corrupted = {(c, s): out[(c, s, "top1")] for (c, s) in groups if c and (c, s, "top1") in out}
    if corrupted:
        out[("*", -1, "corrupted_top1")] = float(np.mean(list(corrupted.values())))
        names = sorted({c for c, _ in corrupted if c in ALEXNET and all((c, v) in corrupted for v in range(1, 6))})
        if names:
            ce = {n: np.mean([1 - corrupted[(n, v)] for v in range(1, 6)]) / ALEXNET[n] for n in names}
            out[("*", -1, "mce")] = float(np.mean(list(ce.values())))
            for n in names:
                out[(n, -1, "ce")] = float(ce[n])
            if ("", 0, "top1") in out:
                clean_err = 1 - out[("", 0, "top1")]
                rel = {n: (np.mean([1 - corrupted[(n, v)] for v in range(1, 6)]) - clean_err) / (ALEXNET[n] - ALEXNET_CLEAN)
                       for n in names}
                out[("*", -1, "relative_mce")] = float(np.mean(list(rel.values())))
                for n in names:
                    out[(n, -1, "relative_ce")] = float(rel[n])
    return out


def stored(db: str, run_id: int) -> dict[tuple[str, int, str], float]:
    con = sqlite3.connect(db)
    try:
        return {(c, s, m): v for c, s, m, v in con.execute(
            "SELECT corruption, severity, metric, value FROM aggregates WHERE run_id = ?", (run_id,))}
    finally:
        con.close()
