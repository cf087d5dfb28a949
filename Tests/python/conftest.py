"""pytest configuration for the Stalwart Python suite.

Run from the repository root:

    /work/venv/bin/python -m pytest Tests/python -q

The bindings are imported from ``<repo>/bindings/python`` (no install needed). They load
libStalwart from ``$STALWART_LIB`` or the default locations (``stalwart/_lib.py``). Shared
fixtures (EfficientNet-Lite models, photos, class names) are found at ``$STALWART_SHARED`` or
``<repo>/../shared``; tests that need them skip when they are absent.

Environment: ``STALWART_LIB`` (library), ``STALWART_CLI`` (the ``stalwart`` executable, default
``<repo>/.build/release/stalwart``), ``STALWART_SHARED`` (fixtures), ``STALWART_TEST_INPROCESS=1``
(run the conformance / per-operator models in-process instead of in the crash-isolating
worker; useful under a debugger).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BINDINGS = REPO / "bindings" / "python"
if str(BINDINGS) not in sys.path:
    sys.path.insert(0, str(BINDINGS))
HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import onnx_builder  # noqa: E402  (needs sys.path above)
from shared import fixtures_dir  # noqa: E402


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def cli() -> str:
    """Path of the ``stalwart`` executable (``$STALWART_CLI`` or the release build); skips the
    test when it is absent."""
    path = os.environ.get("STALWART_CLI", str(REPO / ".build" / "release" / "stalwart"))
    if not os.path.exists(path):
        pytest.skip("stalwart CLI not built")
    return path


@pytest.fixture(scope="session")
def fixtures() -> Path:
    """The shared fixtures folder; skips the test when it is absent."""
    path = fixtures_dir()
    if path is None:
        pytest.skip("shared fixtures not found (set STALWART_SHARED or put them at <repo>/../shared)")
    return path


@pytest.fixture(scope="session")
def photo_labels(fixtures) -> dict[str, int]:
    return json.loads((fixtures / "images" / "labels.json").read_text())


@pytest.fixture(scope="session")
def class_names(fixtures) -> list[str]:
    return (fixtures / "imagenet_classes.txt").read_text().splitlines()


@pytest.fixture(scope="session")
def lib_path() -> Path:
    """Path of the libStalwart the bindings loaded (fails with the loader's message)."""
    try:
        import stalwart
    except ImportError as e:
        pytest.fail(f"cannot import the stalwart bindings: {e}", pytrace=False)
    return Path(stalwart.library_path)


@pytest.fixture
def isolated():
    """Runs Python code in a fresh interpreter with the bindings importable and the same
    library; returns the CompletedProcess. Used for calls that could crash the host."""
    return onnx_builder.run_isolated


# ---------------------------------------------------------------------------------------------
# End-of-run summary of the conformance suite (filled by test_conformance.py).
# ---------------------------------------------------------------------------------------------


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    report = onnx_builder.CONFORMANCE_REPORT
    if not any(report.values()):
        return
    tr = terminalreporter
    tr.section("ONNX backend conformance summary")
    counts = {k: len(v) for k, v in report.items()}
    tr.write_line(
        f"passed {counts['passed']}, failed {counts['failed']}, skipped {counts['skipped']}"
    )
    by_op: dict[str, list[str]] = {}
    other: dict[str, list[str]] = {}
    for case, reason in report["skipped"]:
        if reason.startswith("unsupported ops: "):
            for op in reason[len("unsupported ops: "):].split(", "):
                by_op.setdefault(op, []).append(case)
        else:
            other.setdefault(reason, []).append(case)
    if by_op:
        tr.write_line("skipped for operators not in SUPPORTED_OPS (op: number of cases blocked):")
        for op, cases in sorted(by_op.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            sole = sum(1 for c, r in report["skipped"] if c in cases and r == f"unsupported ops: {op}")
            tr.write_line(f"  {op}: {len(cases)} (only missing op in {sole})")
    if other:
        tr.write_line("skipped for other reasons:")
        for reason, cases in sorted(other.items(), key=lambda kv: -len(kv[1])):
            tr.write_line(f"  {reason}: {len(cases)} ({', '.join(sorted(cases)[:6])}"
                          f"{', ...' if len(cases) > 6 else ''})")
    if report["failed"]:
        tr.write_line("failed cases (case [ops]: reason):")
        for case, reason in sorted(report["failed"]):
            tr.write_line(f"  {case}: {reason}")
