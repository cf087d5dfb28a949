"""The C boundary: the header compiles as C99 and C++11 with -Wall -Wextra -pedantic -Werror,
the bindings declare exactly the header's functions with matching types, the C example builds
and classifies a fixture photo, the Python example runs, and the shared library exports only
``stalwart_*`` symbols with a SONAME."""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from onnx_builder import BINDINGS, REPO, describe, isolated_env
from shared import efficientnet_path, fixtures_dir, preprocess

HEADER = REPO / "include" / "stalwart.h"
#: stalwart.h and the parts it includes (include/stalwart_<part>.h).
HEADERS = [HEADER, *sorted((REPO / "include").glob("stalwart_*.h"))]
STRICT = ["-Wall", "-Wextra", "-pedantic", "-Werror"]


def compiler(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"no {name} compiler")
    return path


def header_functions() -> dict[str, tuple[str, list[str]]]:
    """name -> (return type, [parameter types]) for every function declared in the header,
    types normalised to 'const T *' style without parameter names."""
    text = "\n".join(h.read_text() for h in HEADERS)
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"#[^\n]*", " ", text)
    out = {}
    for m in re.finditer(r"([A-Za-z_][\w\s\*]*?)\b(stalwart_\w+)\s*\(([^)]*)\)\s*;", text):
        ret, name, params = m.group(1), m.group(2), m.group(3)
        if "typedef" in ret:
            continue

        def norm(decl: str, drop_name: bool) -> str:
            decl = " ".join(decl.replace("*", " * ").split())
            toks = decl.split()
            if drop_name and toks and toks[-1] not in ("*",) and len(toks) > 1 and \
                    not toks[-1].endswith("_t") and toks[-1] not in ("void", "char", "int"):
                toks = toks[:-1]  # drop the parameter name
            return " ".join(toks)

        ps = [] if params.strip() in ("", "void") else [norm(p, True) for p in params.split(",")]
        out[name] = (norm(ret, False), ps)
    return out


def test_header_compiles_c99(tmp_path):
    cc = compiler("cc")
    src = tmp_path / "use.c"
    src.write_text(textwrap.dedent("""
        #include "stalwart.h"
        #include <stddef.h>
        /* Every declaration is usable, with the types the header promises. */
        int main(void) {
            stalwart_tensor t;
            stalwart_status s = STALWART_OK;
            stalwart_dtype d = STALWART_DTYPE_FLOAT32;
            t.struct_size = (uint32_t)sizeof t;
            t.dtype = d;
            t.rank = STALWART_MAX_RANK;
            t.shape[STALWART_MAX_RANK - 1] = -1;
            (void)t;
            return (int)s + (STALWART_API_VERSION > 0 ? 0 : 1) +
                   (int)offsetof(stalwart_tensor, shape) * 0;
        }
    """))
    for std in ("-std=c99", "-std=c11"):
        proc = subprocess.run([cc, std, *STRICT, f"-I{HEADER.parent}", "-c", str(src), "-o",
                               str(tmp_path / "use.o")], capture_output=True, text=True)
        assert proc.returncode == 0, f"{std}: {proc.stderr}"


def test_header_compiles_cxx11(tmp_path):
    cxx = compiler("c++")
    src = tmp_path / "use.cpp"
    src.write_text(textwrap.dedent("""
        #include "stalwart.h"
        #include "stalwart.h"  // include guard
        int main() {
            stalwart_status (*run)(const stalwart_model *, const stalwart_tensor *, size_t,
                                   stalwart_tensor *, size_t) = &stalwart_model_run;
            stalwart_tensor t = {};
            t.struct_size = static_cast<uint32_t>(sizeof t);
            return run == nullptr ? 1 : static_cast<int>(t.rank);
        }
    """))
    for std in ("-std=c++11", "-std=c++17"):
        proc = subprocess.run([cxx, std, *STRICT, f"-I{HEADER.parent}", "-c", str(src), "-o",
                               str(tmp_path / "use.o")], capture_output=True, text=True)
        assert proc.returncode == 0, f"{std}: {proc.stderr}"


def test_struct_layout_matches_ctypes(tmp_path):
    cc = compiler("cc")
    src = tmp_path / "layout.c"
    src.write_text(textwrap.dedent("""
        #include "stalwart.h"
        #include <stdio.h>
        #define F(f) printf(#f " %zu %zu\\n", offsetof(stalwart_tensor, f), sizeof(((stalwart_tensor *)0)->f))
        int main(void) {
            printf("sizeof %zu %zu\\n", sizeof(stalwart_tensor), _Alignof(stalwart_tensor));
            F(struct_size); F(dtype); F(name); F(data); F(capacity_bytes); F(rank); F(shape);
            return 0;
        }
    """))
    exe = tmp_path / "layout"
    proc = subprocess.run([cc, "-std=c11", f"-I{HEADER.parent}", str(src), "-o", str(exe)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = dict(
        (l.split()[0], tuple(map(int, l.split()[1:])))
        for l in subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.splitlines()
    )
    sys.path.insert(0, str(BINDINGS))
    from stalwart import _lib

    T = _lib.stalwart_tensor
    assert lines["sizeof"] == (ctypes.sizeof(T), ctypes.alignment(T))
    for name, _ in T._fields_:
        field = getattr(T, name)
        assert lines[name] == (field.offset, field.size), name


# C type (normalised) -> ctypes type name as declared in stalwart/_lib.py.
C_TO_CTYPES = {
    "void": "None",
    "uint32_t": "c_uint",
    "int32_t": "c_int",
    "stalwart_status": "c_int",
    "stalwart_dtype": "c_int",
    "size_t": "c_ulong",
    "char *": "c_char_p",
    "const char *": "c_char_p",
    "const void *": "c_void_p",
    "const char * *": "LP_c_char_p",
    "size_t *": "LP_c_ulong",
    "int64_t *": "LP_c_long",
    "stalwart_dtype *": "LP_c_int",
    "stalwart_options *": "LP_stalwart_options",
    "const stalwart_options *": "LP_stalwart_options",
    "stalwart_options * *": "LP_LP_stalwart_options",
    "stalwart_model *": "LP_stalwart_model",
    "const stalwart_model *": "LP_stalwart_model",
    "stalwart_model * *": "LP_LP_stalwart_model",
    "stalwart_tensor *": "LP_stalwart_tensor",
    "const stalwart_tensor *": "LP_stalwart_tensor",
    "uint64_t": "c_ulong",
    "float": "c_float",
    "bool": "c_bool",
    "float *": "LP_c_float",
    "const float *": "LP_c_float",
    "const uint8_t *": "LP_c_ubyte",
    "uint8_t *": "LP_c_ubyte",
    "const double *": "LP_c_double",
    "uint8_t * *": "LP_LP_c_ubyte",
    "void *": "c_void_p",
    "stalwart_eval_options *": "LP_stalwart_eval_options",
    "const stalwart_eval_options *": "LP_stalwart_eval_options",
    "stalwart_eval_options * *": "LP_LP_stalwart_eval_options",
    "stalwart_eval_progress": "CFunctionType",
    "stalwart_image *": "LP_stalwart_image",
    "const stalwart_image *": "LP_stalwart_image",
    "stalwart_image * *": "LP_LP_stalwart_image",
    "stalwart_pipeline *": "LP_stalwart_pipeline",
    "const stalwart_pipeline *": "LP_stalwart_pipeline",
    "stalwart_pipeline * *": "LP_LP_stalwart_pipeline",
    "stalwart_metric *": "LP_stalwart_metric",
    "const stalwart_metric *": "LP_stalwart_metric",
    "stalwart_metric * *": "LP_LP_stalwart_metric",
    "int64_t": "c_long",
    "double": "c_double",
    "double *": "LP_c_double",
    "const int64_t *": "LP_c_long",
    "const char * const *": "LP_c_char_p",
    "stalwart_metric * const *": "LP_LP_stalwart_metric",
}


def test_bindings_declare_every_header_function():
    sys.path.insert(0, str(BINDINGS))
    from stalwart import _lib

    declared = header_functions()
    assert len(declared) >= 18, sorted(declared)
    assert set(_lib.FUNCTIONS) == set(declared), (
        f"header only: {sorted(set(declared) - set(_lib.FUNCTIONS))}; "
        f"bindings only: {sorted(set(_lib.FUNCTIONS) - set(declared))}"
    )
    for name, (ret, params) in declared.items():
        restype, argtypes, returns_status = _lib.FUNCTIONS[name]
        want_ret = C_TO_CTYPES.get(ret)
        assert want_ret is not None, f"{name}: unmapped C type {ret!r}"
        got_ret = "None" if restype is None else restype.__name__
        assert got_ret == want_ret, f"{name}: restype {got_ret} != {ret}"
        assert returns_status == (ret == "stalwart_status"), name
        assert len(argtypes) == len(params), f"{name}: {len(argtypes)} argtypes for {params}"
        for i, (a, p) in enumerate(zip(argtypes, params)):
            want = C_TO_CTYPES.get(p)
            assert want is not None, f"{name}: unmapped C type {p!r}"
            assert a.__name__ == want, f"{name} parameter {i}: {a.__name__} != {p}"
        fn = getattr(_lib.lib, name)
        assert fn.argtypes == argtypes and fn.restype is restype
        assert (fn.errcheck is not None) == returns_status, name


def test_status_codes_match_header():
    text = HEADER.read_text()
    codes = {m.group(1): int(m.group(2)) for m in re.finditer(r"#define STALWART_(\w+) (-?\d+)", text)}
    sys.path.insert(0, str(BINDINGS))
    import stalwart
    from stalwart import _lib, errors

    assert codes["API_VERSION"] == _lib.API_VERSION
    assert codes["MAX_RANK"] == _lib.MAX_RANK
    for key, value in codes.items():
        if key.startswith("ERROR_") or key == "OK":
            assert getattr(errors, key) == value, key
        if key.startswith("DTYPE_"):
            assert getattr(_lib, key) == value, key
    expected = {
        "ERROR_INVALID_ARGUMENT": stalwart.InvalidArgument, "ERROR_IO": stalwart.StalwartIOError,
        "ERROR_INVALID_MODEL": stalwart.ModelError, "ERROR_UNSUPPORTED": stalwart.UnsupportedError,
        "ERROR_SHAPE_MISMATCH": stalwart.ShapeError, "ERROR_OUT_OF_MEMORY": stalwart.OutOfMemory,
        "ERROR_BUFFER_TOO_SMALL": stalwart.BufferTooSmall, "ERROR_INTERNAL": stalwart.InternalError,
        "ERROR_DECODE": stalwart.DecodeError,
    }
    assert {k for k in codes if k.startswith("ERROR_")} == set(expected), "a status without a class"
    for key, cls in expected.items():
        e = errors.error_for_status(codes[key], "msg")
        assert type(e) is cls and e.status == codes[key] and str(e) == "msg"
    assert issubclass(stalwart.StalwartIOError, OSError)
    assert issubclass(stalwart.ShapeError, ValueError)
    assert issubclass(stalwart.OutOfMemory, MemoryError)
    assert type(errors.error_for_status(99, "new")) is stalwart.StalwartError


def test_versions(lib_path):
    import stalwart

    assert stalwart.api_version() == stalwart.API_VERSION == 5
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", stalwart.version()), stalwart.version()
    assert stalwart.__version__ == stalwart.version()


# ---------------------------------------------------------------------------------------------
# Finding the library
# ---------------------------------------------------------------------------------------------


def test_candidate_paths(monkeypatch, lib_path):
    from stalwart import _lib

    monkeypatch.delenv("STALWART_LIB", raising=False)
    pkg = BINDINGS / "stalwart"
    assert _lib.candidate_paths() == [
        pkg / "libStalwart.so",
        REPO / ".build" / "release" / "libStalwart.so",
        REPO / ".build" / "debug" / "libStalwart.so",
    ]
    monkeypatch.setenv("STALWART_LIB", "/x/y.so")
    assert _lib.candidate_paths() == [Path("/x/y.so")]


def test_missing_library_error_names_paths(tmp_path):
    env = isolated_env()
    env["STALWART_LIB"] = str(tmp_path / "nope" / "libStalwart.so")
    proc = subprocess.run([sys.executable, "-c", "import stalwart"], capture_output=True, text=True, env=env)
    assert proc.returncode != 0
    assert "ImportError" in proc.stderr and str(tmp_path / "nope" / "libStalwart.so") in proc.stderr
    bogus = tmp_path / "libStalwart.so"
    bogus.write_bytes(b"not an ELF file")
    env["STALWART_LIB"] = str(bogus)
    proc = subprocess.run([sys.executable, "-c", "import stalwart"], capture_output=True, text=True, env=env)
    assert proc.returncode != 0 and "ImportError" in proc.stderr and str(bogus) in proc.stderr


def test_abi_mismatch_refused(tmp_path):
    """A library older than the bindings (stalwart_api_version() 1 < 2) is refused at import."""
    cc = compiler("cc")
    from stalwart import _lib

    stubs = []
    for name, (restype, argtypes, _) in _lib.FUNCTIONS.items():
        params = ", ".join(f"void *a{i}" for i in range(len(argtypes))) or "void"
        if name == "stalwart_api_version":
            stubs.append("unsigned stalwart_api_version(void) { return 1; }")
        elif restype is None:
            stubs.append(f"void {name}({params}) {{ {' '.join(f'(void)a{i};' for i in range(len(argtypes)))} }}")
        else:
            stubs.append(f"long {name}({params}) {{ {' '.join(f'(void)a{i};' for i in range(len(argtypes)))} return 0; }}")
    src = tmp_path / "stub.c"
    src.write_text("\n".join(stubs) + "\n")
    so = tmp_path / "libStalwart.so"
    proc = subprocess.run([cc, "-shared", "-fPIC", str(src), "-o", str(so)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    env = isolated_env()
    env["STALWART_LIB"] = str(so)
    proc = subprocess.run([sys.executable, "-c", "import stalwart"], capture_output=True, text=True, env=env)
    assert proc.returncode != 0
    assert "ImportError" in proc.stderr and f"version {_lib.API_VERSION}" in proc.stderr and "version 1" in proc.stderr, proc.stderr


# ---------------------------------------------------------------------------------------------
# The shared library's exports
# ---------------------------------------------------------------------------------------------


def test_only_stalwart_symbols_exported(lib_path):
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("no nm")
    proc = subprocess.run([nm, "-D", "--defined-only", str(lib_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    exported, leaked = [], []
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        kind, name = parts[-2], parts[-1]
        if not kind.isupper():
            continue  # local / weak-undefined
        (exported if name.startswith("stalwart_") else leaked).append(f"{kind} {name}")
    assert not leaked, f"{len(leaked)} non-API global symbols, e.g. {leaked[:20]}"
    from stalwart import _lib

    names = {e.split()[1] for e in exported}
    assert names == set(_lib.FUNCTIONS), (
        f"missing: {sorted(set(_lib.FUNCTIONS) - names)}; extra: {sorted(names - set(_lib.FUNCTIONS))}"
    )


def test_soname(lib_path):
    readelf = shutil.which("readelf")
    if readelf is None:
        pytest.skip("no readelf")
    out = subprocess.run([readelf, "-d", str(lib_path)], capture_output=True, text=True).stdout
    assert "(SONAME)" in out and "libStalwart" in out, out


# ---------------------------------------------------------------------------------------------
# The examples
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def c_example(tmp_path_factory, lib_path) -> Path:
    """examples/c built with its Makefile against the library the bindings loaded."""
    compiler("cc")
    if shutil.which("make") is None:
        pytest.skip("no make")
    out = tmp_path_factory.mktemp("c_example")
    libdir = out / "lib"
    libdir.mkdir()
    (libdir / "libStalwart.so").symlink_to(lib_path.resolve())  # so that -lStalwart finds it
    proc = subprocess.run(
        ["make", "-C", str(REPO / "examples" / "c"), f"O={out}", f"LIBDIR={libdir}",
         f"STALWART_ROOT={REPO}"],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, f"make failed:\n{proc.stdout}\n{proc.stderr}"
    exe = out / "classify"
    assert exe.is_file()
    return exe


TOP_LINE = re.compile(r"^\s+(\d)\s+(\d+)\s+([0-9.]+)(?:\s+(.*))?$")


def parse_top5(stdout: str) -> list[tuple[int, float, str]]:
    rows = []
    for line in stdout.splitlines():
        m = TOP_LINE.match(line)
        if m:
            rows.append((int(m.group(2)), float(m.group(3)), (m.group(4) or "").strip()))
    return rows


def test_c_example_classifies_photo(c_example, tmp_path):
    base = fixtures_dir()
    if base is None:
        pytest.skip("shared fixtures not found")
    model = efficientnet_path("lite0")
    x = preprocess(base / "images" / "coffee.png", 224)
    raw = tmp_path / "coffee.f32"
    x.astype("<f4").tofile(raw)
    proc = subprocess.run([str(c_example), str(model), str(raw), str(base / "imagenet_classes.txt")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, describe(proc)
    rows = parse_top5(proc.stdout)
    assert len(rows) == 5, proc.stdout
    import onnxruntime as ort

    logits = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0][0]
    p = np.exp(logits - logits.max())
    p /= p.sum()
    want = [int(i) for i in np.argsort(-logits)[:5]]
    assert [r[0] for r in rows] == want, proc.stdout
    for idx, prob, _ in rows:
        assert abs(prob - p[idx]) < 1e-3, (idx, prob, p[idx])
    assert rows[0][0] == 967 and rows[0][2] == "espresso", proc.stdout


def test_c_example_synthetic_input_and_errors(c_example, tmp_path):
    model = efficientnet_path("lite0")
    proc = subprocess.run([str(c_example), str(model)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, describe(proc)
    assert len(parse_top5(proc.stdout)) == 5, proc.stdout
    # Errors: message from stalwart_last_error(), exit 1, no crash.
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(os.urandom(1000))
    proc = subprocess.run([str(c_example), str(garbage)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "stalwart_model_load failed" in proc.stderr, describe(proc)
    proc = subprocess.run([str(c_example), str(tmp_path / "missing.onnx")], capture_output=True, text=True)
    assert proc.returncode == 1 and "missing.onnx" in proc.stderr, describe(proc)
    short = tmp_path / "short.f32"
    short.write_bytes(b"\0" * 16)
    proc = subprocess.run([str(c_example), str(model), str(short)], capture_output=True, text=True)
    assert proc.returncode == 1 and "needs" in proc.stderr, describe(proc)


def test_python_example(lib_path):
    """examples/python/classify.py: the bundled model needs no flags (its metadata carries the
    preprocessing and class names); a plain model takes --preset."""
    base = fixtures_dir()
    if base is None:
        pytest.skip("shared fixtures not found")
    photos = [str(base / "images" / "coffee.png"), str(base / "images" / "chelsea.png")]
    script = str(REPO / "examples" / "python" / "classify.py")
    for extra in ([str(REPO / "models" / "efficientnet_lite0.onnx")],
                  [str(efficientnet_path("lite0")), "--preset", "efficientnet-lite",
                   "--classes", str(base / "imagenet_classes.txt")]):
        proc = subprocess.run([sys.executable, script, extra[0], *photos, *extra[1:], "--threads", "2"],
                              capture_output=True, text=True, timeout=300, env=isolated_env())
        assert proc.returncode == 0, describe(proc)
        rows = parse_top5(proc.stdout)
        assert len(rows) == 10, proc.stdout
        assert rows[0][0] == 967 and rows[0][2] == "espresso", proc.stdout
        assert rows[5][0] == 282 and rows[5][2] == "tiger cat", proc.stdout  # MODELS.md: lite0 chelsea
    proc = subprocess.run([sys.executable, script, str(efficientnet_path("lite0")), photos[0]],
                          capture_output=True, text=True, timeout=300, env=isolated_env())
    assert proc.returncode == 1 and "preprocessing" in proc.stderr, describe(proc)


def test_c_example_decodes_and_preprocesses_photo(c_example):
    """The C image API end to end: stalwart_image_load + the pipeline the bundled model's
    metadata names + its class names; same top-5 and probabilities as ONNX Runtime on the
    Pillow-preprocessed photo (MODELS.md recipe)."""
    base = fixtures_dir()
    if base is None:
        pytest.skip("shared fixtures not found")
    model = REPO / "models" / "efficientnet_lite0.onnx"
    photo = REPO / "examples" / "data" / "rocket.png"
    proc = subprocess.run([str(c_example), str(model), str(photo)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, describe(proc)
    rows = parse_top5(proc.stdout)
    import onnxruntime as ort

    logits = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"]).run(
        None, {"input": preprocess(photo, 224)})[0][0]
    p = np.exp(logits - logits.max())
    p /= p.sum()
    assert [r[0] for r in rows] == [int(i) for i in np.argsort(-logits)[:5]], proc.stdout
    for idx, prob, _ in rows:
        assert abs(prob - p[idx]) < 1e-3, (idx, prob, p[idx])
    assert rows[0][2] == "missile", proc.stdout
