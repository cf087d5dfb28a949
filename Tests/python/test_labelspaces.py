"""data/labelspaces/*.json: counts and ranges (always), the generated Swift tables being up to date
with the JSON, the generator failing loudly on bad data, and every list compared with the upstream
copies when they are present:

- the shared fixtures (``<shared>/fixtures``: ImageNet order and names, ``labelspaces/``), found
  as the other tests find them (``$STALWART_SHARED`` or ``<repo>/../shared``);
- the research transcripts of the upstream files (``$STALWART_LABELS_UPSTREAM`` or
  ``<repo>/../research/labels/upstream``).

Tests that need a missing directory skip with the reason. The transcripts are read with
``ast.literal_eval`` (never executed).
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shared import fixtures_dir

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data" / "labelspaces"
EMBED = REPO / "scripts" / "embed_label_spaces.py"

# file -> (name, classes, total ImageNet ids, unmapped classes, one id per class)
EXPECTED = {
    "imagenet_1k.json": ("imagenet", 1000, 1000, [], True),
    "imagenet_a.json": ("imagenet_a", 200, 200, [], True),
    "imagenet_r.json": ("imagenet_r", 200, 200, [], True),
    "objectnet.json": ("objectnet", 113, 125, [], False),
    "imagenet_vid_robust.json": ("imagenet_vid_robust", 30, 288, [], False),
    "ytbb_robust.json": ("ytbb_robust", 24, 231, [6, 8, 14, 18, 22], False),
    "si_score.json": ("si_score", 61, 61, [], True),
    "model_vs_human_16.json": ("model_vs_human_16", 16, 207, [], False),
}


def load(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def members(name: str) -> list[list[int]]:
    return [c["imagenet_indices"] for c in load(name)["classes"]]


def names(name: str) -> list[str]:
    return [c["name"] for c in load(name)["classes"]]


def fixtures() -> Path:
    path = fixtures_dir()
    if path is None or not (path / "labelspaces").is_dir():
        pytest.skip("shared fixtures not found (set STALWART_SHARED or put them at <repo>/../shared)")
    return path


def upstream() -> Path:
    env = os.environ.get("STALWART_LABELS_UPSTREAM")
    path = Path(env) if env else REPO.parent / "research" / "labels" / "upstream"
    if not path.is_dir():
        pytest.skip(f"upstream transcripts not found at {path} (set STALWART_LABELS_UPSTREAM)")
    return path


def literals(path: Path) -> dict:
    """Top-level `name = <literal>` and `name = dict(k=<literal>, ...)` assignments of a transcript."""
    out = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        v = node.value
        if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "dict" and not v.args:
            out[node.targets[0].id] = {kw.arg: ast.literal_eval(kw.value) for kw in v.keywords}
        else:
            out[node.targets[0].id] = ast.literal_eval(v)
    return out


# ---------------------------------------------------------------- always


@pytest.mark.parametrize("fname", sorted(EXPECTED))
def test_counts_ranges_and_metadata(fname):
    name, n_classes, n_ids, unmapped, single = EXPECTED[fname]
    doc = load(fname)
    assert doc["name"] == name
    assert set(doc["source"]) >= {"repo", "path", "commit"}
    assert doc["license"]
    for lf in doc.get("license_files", []):
        assert (DATA / lf).is_file(), lf
    cl = doc["classes"]
    assert len(cl) == doc["num_classes"] == n_classes
    assert [c["label"] for c in cl] == list(range(n_classes))
    assert all(isinstance(c["name"], str) and c["name"].strip() for c in cl)
    ids = [i for c in cl for i in c["imagenet_indices"]]
    assert len(ids) == doc["num_imagenet_indices"] == n_ids
    assert all(type(i) is int and 0 <= i < 1000 for i in ids)
    assert len(set(ids)) == len(ids), "classes must be disjoint"
    assert [k for k, c in enumerate(cl) if not c["imagenet_indices"]] == unmapped
    if single:
        assert all(len(c["imagenet_indices"]) == 1 for c in cl)


def test_every_json_is_listed_and_readme_names_sources():
    assert sorted(p.name for p in DATA.glob("*.json")) == sorted(EXPECTED)
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for fname in EXPECTED:
        doc = load(fname)
        assert fname in readme
        if doc["source"]["commit"]:
            assert doc["source"]["commit"][:8] in readme, (fname, doc["source"]["commit"])
        for lf in doc.get("license_files", []):
            assert Path(lf).name in readme, lf


def test_identity_and_imagenet_order():
    doc = load("imagenet_1k.json")
    wnids = [c["wnid"] for c in doc["classes"]]
    assert wnids == sorted(wnids) and len(set(wnids)) == 1000
    assert wnids[0] == "n01440764" and wnids[-1] == "n15075141"
    assert members("imagenet_1k.json") == [[i] for i in range(1000)]


def test_spot_checks():
    a, r = members("imagenet_a.json"), members("imagenet_r.json")
    assert a[0] == [6] and a[-1] == [988] and r[0] == [1] and r[-1] == [988]
    on = load("objectnet.json")["classes"]
    assert on[0]["name"] == "Alarm clock" and on[0]["imagenet_indices"] == [409, 530]
    vid = load("imagenet_vid_robust.json")["classes"]
    assert vid[0]["name"] == "airplane" and vid[0]["imagenet_indices"] == [404]
    mvh = {c["name"]: c["imagenet_indices"] for c in load("model_vs_human_16.json")["classes"]}
    assert mvh["knife"] == [499]
    yt = load("ytbb_robust.json")
    assert yt["unmapped_classes"] == [6, 8, 14, 18, 22]
    assert yt["classes"][22]["name"] == "none" and yt["classes"][23]["name"] == "car"


def test_swift_tables_are_up_to_date():
    res = subprocess.run([sys.executable, str(EMBED), "--check"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize(
    "fname, edit, message",
    [
        ("imagenet_vid_robust.json", lambda d: d["classes"][0].update(imagenet_indices=[1000]), "0..<1000"),
        ("objectnet.json", lambda d: d["classes"].pop(), "classes, expected 113"),
        ("ytbb_robust.json", lambda d: d["classes"][6].update(imagenet_indices=[345]), "total, expected 231"),
        ("model_vs_human_16.json", lambda d: d["classes"][1]["imagenet_indices"].append(404), "is in class 0 and class 1"),
        ("imagenet_a.json", lambda d: d["classes"][3].update(imagenet_indices=[]), "expected exactly 1"),
        ("si_score.json", lambda d: d["classes"][0].update(imagenet_indices=["407"]), "is not an int"),
    ],
)
def test_generator_fails_loudly(tmp_path, fname, edit, message):
    bad = tmp_path / "labelspaces"
    shutil.copytree(DATA, bad)
    doc = json.loads((bad / fname).read_text(encoding="utf-8"))
    edit(doc)
    (bad / fname).write_text(json.dumps(doc), encoding="utf-8")
    res = subprocess.run([sys.executable, str(EMBED), "--data", str(bad)], capture_output=True, text=True)
    assert res.returncode != 0
    assert message in res.stderr, res.stderr


# ---------------------------------------------------------------- shared fixtures


def test_imagenet_1k_against_fixtures():
    fx = fixtures()
    cl = load("imagenet_1k.json")["classes"]
    assert [c["wnid"] for c in cl] == (fx / "imagenet_wnids.txt").read_text().split()
    assert [c["synset_words"] for c in cl] == (fx / "imagenet_classes.txt").read_text(encoding="utf-8").splitlines()
    assert [c["name"] for c in cl] == (fx / "imagenet_classes_clean.txt").read_text(encoding="utf-8").splitlines()


def test_hendrycks_subsets_against_fixtures():
    fx = fixtures() / "labelspaces"
    for fname, txt in [("imagenet_a.json", "imagenet_a_classes.txt"), ("imagenet_r.json", "imagenet_r_classes.txt")]:
        want = [int(x) for x in (fx / txt).read_text().split()]
        assert [m[0] for m in members(fname)] == want, fname


def test_objectnet_against_fixtures():
    fx = fixtures()
    mapping = json.loads((fx / "labelspaces/objectnet/objectnet_to_imagenet_1k.json").read_text(encoding="utf-8"))
    folders = json.loads((fx / "labelspaces/objectnet/folder_to_objectnet_label.json").read_text(encoding="utf-8"))
    synset = (fx / "imagenet_classes.txt").read_text(encoding="utf-8").splitlines()
    cl = load("objectnet.json")["classes"]
    assert [c["name"] for c in cl] == list(mapping)  # upstream key order
    label_to_folder = {v: k for k, v in folders.items()}
    for c in cl:
        in_names = mapping[c["name"]].split("; ")
        # name -> index through the canonical synset-word list; no ambiguous name is used
        for n in in_names:
            assert synset.count(n) == 1, n
        assert c["imagenet_indices"] == [synset.index(n) for n in in_names], c["name"]
        assert c["objectnet_folder"] == label_to_folder[c["name"]]


def test_vid_robust_against_fixtures():
    fx = fixtures() / "labelspaces/imagenet_vid_robust"
    cim = json.loads((fx / "class_idx_map.json").read_text())
    rev = json.loads((fx / "rev_class_idx_map.json").read_text())
    m = members("imagenet_vid_robust.json")
    assert {str(i): c for c, ids in enumerate(m) for i in ids} == cim
    assert {str(c): sorted(ids) for c, ids in enumerate(m)} == {k: sorted(v) for k, v in rev.items()}


def test_ytbb_against_fixtures():
    fx = fixtures() / "labelspaces/ytbb_robust"
    rev = json.loads((fx / "rev_class_idx_map.json").read_text())
    cim = json.loads((fx / "class_idx_map.json").read_text())
    idx = json.loads((fx / "ytbb_class_index.json").read_text())
    m = members("ytbb_robust.json")
    assert {str(c): ids for c, ids in enumerate(m) if ids} == rev
    assert {str(i): c for c, ids in enumerate(m) for i in ids} == cim
    assert names("ytbb_robust.json") == [idx[str(k)] for k in range(24)]


def test_siscore_against_fixtures():
    fx = fixtures() / "labelspaces"
    full = json.loads((fx / "siscore_label_to_imagenet.json").read_text())
    doc = load("si_score.json")
    assert doc["all_112_label_str_to_imagenet"] == full
    assert all(c["imagenet_indices"] == [full[c["name"]]] for c in doc["classes"])
    assert names("si_score.json") == sorted(names("si_score.json"))


def test_model_vs_human_against_fixtures():
    fx = fixtures() / "labelspaces"
    want = json.loads((fx / "model_vs_human_16class.json").read_text())
    assert {n: m for n, m in zip(names("model_vs_human_16.json"), members("model_vs_human_16.json"))} == want
    assert names("model_vs_human_16.json") == sorted(want)


# ---------------------------------------------------------------- research transcripts of upstream


def test_imagenet_a_against_upstream():
    up = upstream()
    t = literals(up / "natural_adv_examples_eval_thousand_k_to_200.py")["thousand_k_to_200"]
    indices_in_1k = [k for k in t if t[k] != -1]  # as hendrycks' eval.py
    assert [m[0] for m in members("imagenet_a.json")] == indices_in_1k
    third = literals(up / "thirdparty_imagenet_a_wnids.py")["imagenet_a_wnids"]
    assert [c["wnid"] for c in load("imagenet_a.json")["classes"]] == third


def test_imagenet_r_against_upstream():
    lit = literals(upstream() / "imagenet_r_eval_wnids.py")
    cl = load("imagenet_r.json")["classes"]
    assert [c["imagenet_indices"][0] for c in cl] == lit["imagenet_r_indices"]
    assert {c["wnid"] for c in cl} == lit["imagenet_r_wnids"]


def test_objectnet_against_upstream():
    mapping = json.loads((upstream() / "wiseft_objectnet_to_imagenet_1k.json").read_text(encoding="utf-8"))
    cl = load("objectnet.json")["classes"]
    assert [c["name"] for c in cl] == list(mapping)
    assert all(c["imagenet_names"] == mapping[c["name"]].split("; ") for c in cl)
    synset = [c["synset_words"] for c in load("imagenet_1k.json")["classes"]]
    assert all(c["imagenet_indices"] == [synset.index(n) for n in c["imagenet_names"]] for c in cl)


def test_vid_robust_against_upstream():
    cim = json.loads((upstream() / "testbed_vid_class_idx_map.json").read_text())
    assert {str(i): c for c, ids in enumerate(members("imagenet_vid_robust.json")) for i in ids} == cim


def test_ytbb_against_upstream():
    t = json.loads((upstream() / "wiseft_ytbb_transcribed.json").read_text())
    m = members("ytbb_robust.json")
    assert {str(c): ids for c, ids in enumerate(m) if ids} == t["rev_class_idx_map"]
    assert names("ytbb_robust.json") == [t["ytbb_class_index"][str(k)] for k in range(24)]


def test_siscore_against_upstream():
    lit = literals(upstream() / "siscore_transcribed.py")
    dl, il = lit["DATASET_LABELS"], lit["IMAGENET_LABELS"]
    cl = load("si_score.json")["classes"]
    assert [c["name"] for c in cl] == sorted(dl, key=dl.get)
    assert all(c["imagenet_indices"] == [il[c["name"]]] for c in cl)


def test_model_vs_human_against_upstream():
    lit = literals(upstream() / "mvh_transcribed.py")
    cl = load("model_vs_human_16.json")["classes"]
    assert {c["name"]: c["imagenet_indices"] for c in cl} == lit["INDICES"]
    assert {c["name"]: c["upstream_wnids"] for c in cl} == lit["WNIDS"]
    wnids = [c["wnid"] for c in load("imagenet_1k.json")["classes"]]
    for c in cl:  # the ILSVRC wnids of each category are exactly its index list
        assert sorted(wnids.index(w) for w in c["upstream_wnids"] if w in wnids) == sorted(c["imagenet_indices"])
