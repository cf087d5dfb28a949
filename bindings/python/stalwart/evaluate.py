"""Robustness evaluation runs (``stalwart eval`` from Python).

    >>> res = stalwart.evaluate("models/efficientnet_lite0.onnx", "photos/",
    ...                         corruptions="common", resolutions=[160, 224, 288], db="results.sqlite")
    >>> res.metric("top1")                          # clean top-1 of the first run
    >>> res.metric("mce", corruption="*", severity=-1)
    >>> res.report("report.html")                   # HTML + report.json + report.csv

The work happens in the library (worker threads, the GIL released); results go to an SQLite
database that :class:`Results` reads with Python's own ``sqlite3``. Calling ``evaluate`` again
with the same arguments resumes an interrupted run; Ctrl-C stops after the batch in flight.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import sqlite3
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from . import _lib
from .errors import InvalidArgument

ProgressFn = Callable[[int, int, int, int, float], None]


def _text(v) -> str:
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v)
    if isinstance(v, bool):
        return "1" if v else "0"
    return str(v)


@dataclass
class Results:
    """The outcome of :func:`evaluate`: counts, and the database's runs, aggregates and rows."""

    db: str
    evaluated: int
    resumed: int
    skipped: int
    run_ids: list[int] = field(default_factory=list)

    def _query(self, sql: str, args: Sequence = ()) -> list[dict]:
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            con.row_factory = sqlite3.Row
            return [dict(r) for r in con.execute(sql, args)]
        finally:
            con.close()

    def runs(self) -> list[dict]:
        """Every run in the database (model name and hash, suite, resolution, preprocessing, …)."""
        return self._query(
            "SELECT runs.*, models.name AS model, models.sha256 AS model_sha256 FROM runs "
            "JOIN models ON models.id = runs.model_id ORDER BY runs.id")

    def aggregates(self, run_id: int | None = None) -> list[dict]:
        """Aggregates (run_id, corruption, severity, metric, value, count); all runs by default."""
        if run_id is None:
            return self._query("SELECT * FROM aggregates ORDER BY run_id, corruption, severity, metric")
        return self._query("SELECT * FROM aggregates WHERE run_id = ? ORDER BY corruption, severity, metric", (run_id,))

    def metric(self, name: str, corruption: str = "", severity: int = 0, run_id: int | None = None) -> float:
        """One aggregate: ``metric("top1")`` is clean top-1 of the first run of this call;
        ``metric("top1", "fog", 3)``; run-level values use ``corruption="*", severity=-1``."""
        rid = run_id if run_id is not None else (self.run_ids[0] if self.run_ids else None)
        if rid is None:
            raise InvalidArgument("no run to read")
        rows = self._query("SELECT value FROM aggregates WHERE run_id = ? AND corruption = ? AND severity = ? AND metric = ?",
                           (rid, corruption, severity, name))
        if not rows:
            raise KeyError(f"no aggregate {name!r} for ({corruption!r}, {severity}) in run {rid}")
        return float(rows[0]["value"]) if rows[0]["value"] is not None else float("nan")

    def predictions(self, run_id: int | None = None) -> list[dict]:
        """Per-image rows of a run (default: the first of this call), ordered by shift and image."""
        rid = run_id if run_id is not None else self.run_ids[0]
        return self._query("SELECT * FROM predictions WHERE run_id = ? ORDER BY corruption, severity, sample", (rid,))

    def report(self, html: str, json: str | None = None, csv: str | None = None, title: str | None = None) -> None:
        """Writes the HTML report (and JSON/CSV; default beside ``html``)."""
        report(self.db, html, json=json, csv=csv, title=title)


def evaluate(model: str | os.PathLike, data: str | os.PathLike, *, db: str | os.PathLike = "results.sqlite",
             suite: str | None = None, corruptions: str | Iterable[str] | None = None,
             severities: str | Iterable[int] = "1-5", clean: bool = True,
             resolutions: Iterable[int] | None = None, preset: str | None = None, crop_pct: float | None = None,
             interpolation: str | None = None, seed: int = 0, mode: str = "imagecorruptions",
             corrupt_at: str = "input", batch: int = 16,
             threads: int = 0, workers: int = 0, limit: int | None = None, shard: tuple[int, int] | None = None,
             class_map: str | None = None, labels_file: str | None = None, label_space: str | None = None,
             progress: ProgressFn | None = None) -> Results:
    """Evaluates ``model`` (ONNX) on the dataset folder ``data`` — clean, with on-the-fly
    ``corruptions`` (names or subsets such as ``"common"``) at ``severities``, at each of
    ``resolutions`` — and stores everything in the SQLite database ``db``. ``suite`` forces a
    layout (``imagenet-c``, ``imagenet-a``, ``objectnet``, ...; default detected).
    ``corrupt_at="input"`` corrupts the resized, cropped image at each test resolution
    (ImageNet-C's protocol); ``"native"`` the decoded image, as ``stalwart corrupt`` does. ``progress``
    is called as ``progress(run, runs, done, total, images_per_second)`` after each batch."""
    opts = {
        "layout": suite, "corruptions": None if corruptions is None else (corruptions if isinstance(corruptions, str) else list(corruptions)),
        "severities": severities if isinstance(severities, str) else list(severities), "clean": clean,
        "resolutions": None if resolutions is None else list(resolutions), "preset": preset, "crop_pct": crop_pct,
        "interpolation": interpolation, "seed": seed, "mode": mode, "corrupt_at": corrupt_at, "batch": batch, "threads": threads,
        "workers": workers, "limit": limit, "shard": None if shard is None else f"{shard[0]}/{shard[1]}",
        "class_map": class_map, "labels_file": labels_file, "label_space": label_space,
    }
    res = _run(model, data, db, [(k, _text(v)) for k, v in opts.items() if v is not None], progress)
    ids = res._query("SELECT runs.id FROM runs JOIN models ON models.id = runs.model_id "
                     "WHERE runs.data_root = ? AND models.sha256 = ? ORDER BY runs.id",
                     (os.fspath(data), file_sha256(model)))
    res.run_ids = [r["id"] for r in ids]
    return res


def _run(model: str | os.PathLike, data: str | os.PathLike, db: str | os.PathLike,
         options: Iterable[tuple[str, str]], progress: ProgressFn | None) -> Results:
    """``stalwart_evaluate`` with the eval options ``options`` ((key, text value) pairs, as
    ``stalwart_eval_options_set`` takes them); the counts in a :class:`Results` without run ids.
    A ``progress`` callback that raises stops the evaluation after the current batch and its
    exception is re-raised here (Ctrl-C as :class:`KeyboardInterrupt`); what was committed stays."""
    handle = _lib.EvalOptionsPtr()
    _lib.lib.stalwart_eval_options_create(ctypes.byref(handle))
    interrupted = []
    try:
        for key, value in options:
            _lib.lib.stalwart_eval_options_set(handle, key.encode(), value.encode())

        def on_progress(_user, run, runs, done, total, ips):
            try:
                if progress is not None:
                    progress(run, runs, done, total, ips)
            except KeyboardInterrupt:
                interrupted.append(True)
                return 1
            except Exception as e:  # a failing callback stops the run rather than being lost
                interrupted.append(e)
                return 1
            return 0

        callback = _lib.EVAL_PROGRESS(on_progress)
        ev, re_, sk = ctypes.c_int64(), ctypes.c_int64(), ctypes.c_int64()
        _lib.lib.stalwart_evaluate(os.fsencode(model), os.fsencode(data), os.fsencode(db), handle, callback, None,
                                   ctypes.byref(ev), ctypes.byref(re_), ctypes.byref(sk))
    finally:
        _lib.lib.stalwart_eval_options_free(handle)
    if interrupted:
        if isinstance(interrupted[0], Exception):
            raise interrupted[0]
        raise KeyboardInterrupt("evaluation stopped; the committed batches are in the database, call again to resume")
    return Results(db=os.fspath(db), evaluated=ev.value, resumed=re_.value, skipped=sk.value)


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file (how the results database identifies a model)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def report(db: str | os.PathLike, html: str | os.PathLike, *, json: str | os.PathLike | None = None,
           csv: str | os.PathLike | None = None, title: str | None = None) -> None:
    """Writes the report of a results database: HTML with SVG plots, and JSON/CSV (default
    beside ``html``: same name with .json / .csv)."""
    stem = os.path.splitext(os.fspath(html))[0]
    json = json if json is not None else stem + ".json"
    csv = csv if csv is not None else stem + ".csv"
    _lib.lib.stalwart_report_write(os.fsencode(db), os.fsencode(html), os.fsencode(json), os.fsencode(csv),
                                   None if title is None else title.encode())
