#!/usr/bin/env python3
"""Generates Sources/StalwartMetrics/LabelSpaceData.swift from data/labelspaces/*.json: each
label space's class names and, per class, its ImageNet-1k index list, as compact Swift array
literals (libStalwart needs no data files at run time).

The JSON files are the source of truth (their "source" and "license" fields, and
data/labelspaces/README.md, say where every list comes from). To change a label space, edit its
JSON and rerun this script. Before writing anything it checks, and fails loudly otherwise:
  - the class counts and index counts: imagenet 1000 (identity), imagenet_a 200, imagenet_r 200,
    objectnet 113 classes / 125 ids, imagenet_vid_robust 30 / 288, ytbb_robust 24 / 231 with
    exactly 5 classes unmapped, si_score 61 (one id each), model_vs_human_16 16 / 207;
  - every index is an int in 0..<1000, no index belongs to two classes of one space, no class
    lists an index twice; labels run 0..<C in order; names are non-empty strings.

Usage:
  scripts/embed_label_spaces.py               write the Swift file
  scripts/embed_label_spaces.py --check       exit 1 if the Swift file is not what the JSON gives
  scripts/embed_label_spaces.py --data DIR    read the JSON from DIR (validation only unless
                                              --out FILE is given too; used by the tests)
"""
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data" / "labelspaces"
OUT = REPO / "Sources" / "StalwartMetrics" / "LabelSpaceData.swift"
SOURCE_CLASSES = 1000

# (Swift-visible name, JSON file, Swift identifier, classes, total ids, unmapped classes, one id each)
SPACES = [
    ("imagenet", "imagenet_1k.json", "imagenet", 1000, 1000, 0, True),
    ("imagenet_a", "imagenet_a.json", "imagenetA", 200, 200, 0, True),
    ("imagenet_r", "imagenet_r.json", "imagenetR", 200, 200, 0, True),
    ("objectnet", "objectnet.json", "objectnet", 113, 125, 0, False),
    ("imagenet_vid_robust", "imagenet_vid_robust.json", "imagenetVidRobust", 30, 288, 0, False),
    ("ytbb_robust", "ytbb_robust.json", "ytbbRobust", 24, 231, 5, False),
    ("si_score", "si_score.json", "siScore", 61, 61, 0, True),
    ("model_vs_human_16", "model_vs_human_16.json", "modelVsHuman16", 16, 207, 0, False),
]


class DataError(Exception):
    pass


def fail(msg: str) -> None:
    raise DataError(msg)


def swift_string(s: str) -> str:
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\u{%x}" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def wrap(items: list[str], indent: str, width: int = 110) -> list[str]:
    """Comma-separated items packed into lines of at most `width` characters."""
    lines, cur = [], indent
    for it in items:
        piece = it + ","
        if len(cur) + len(piece) + 1 > width and cur.strip():
            lines.append(cur.rstrip())
            cur = indent
        cur += piece + " "
    if cur.strip():
        lines.append(cur.rstrip())
    return lines


def load_space(name, fname, classes, total, unmapped, single):
    path = DATA / fname
    if not path.is_file():
        fail(f"{path}: missing")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        fail(f"{path}: invalid JSON: {e}")
    where = f"{fname}"
    if doc.get("name") != name:
        fail(f"{where}: \"name\" is {doc.get('name')!r}, expected {name!r}")
    src = doc.get("source")
    if not isinstance(src, dict) or not all(k in src for k in ("repo", "path", "commit")):
        fail(f"{where}: \"source\" must be an object with repo, path and commit")
    if not isinstance(doc.get("license"), str) or not doc["license"]:
        fail(f"{where}: \"license\" missing")
    for lf in doc.get("license_files", []):
        if not (DATA / lf).is_file():
            fail(f"{where}: licence file {lf} not found in data/labelspaces/")
    cl = doc.get("classes")
    if not isinstance(cl, list):
        fail(f"{where}: \"classes\" must be a list")
    if len(cl) != classes:
        fail(f"{where}: {len(cl)} classes, expected {classes}")
    if doc.get("num_classes") != classes:
        fail(f"{where}: num_classes is {doc.get('num_classes')}, expected {classes}")
    names, members, owner = [], [], {}
    for k, c in enumerate(cl):
        if not isinstance(c, dict):
            fail(f"{where}: class {k} is not an object")
        if c.get("label") != k:
            fail(f"{where}: class at position {k} has label {c.get('label')!r}")
        nm = c.get("name")
        if not isinstance(nm, str) or not nm.strip():
            fail(f"{where}: class {k} has no name")
        idx = c.get("imagenet_indices")
        if not isinstance(idx, list):
            fail(f"{where}: class {k} ({nm}) has no imagenet_indices list")
        for i in idx:
            if type(i) is not int or not 0 <= i < SOURCE_CLASSES:
                fail(f"{where}: class {k} ({nm}): index {i!r} is not an int in 0..<{SOURCE_CLASSES}")
            if i in owner:
                fail(f"{where}: index {i} is in class {owner[i]} and class {k} ({nm})")
            owner[i] = k
        if single and len(idx) != 1:
            fail(f"{where}: class {k} ({nm}) has {len(idx)} indices, expected exactly 1")
        names.append(nm)
        members.append(idx)
    n_ids = sum(len(m) for m in members)
    if n_ids != total:
        fail(f"{where}: {n_ids} ImageNet indices in total, expected {total}")
    if doc.get("num_imagenet_indices") != total:
        fail(f"{where}: num_imagenet_indices is {doc.get('num_imagenet_indices')}, expected {total}")
    empty = [k for k, m in enumerate(members) if not m]
    if len(empty) != unmapped:
        fail(f"{where}: {len(empty)} classes without indices ({empty}), expected {unmapped}")
    if name == "ytbb_robust" and doc.get("unmapped_classes") != empty:
        fail(f"{where}: unmapped_classes {doc.get('unmapped_classes')} disagrees with the class lists ({empty})")
    if name == "imagenet":
        if members != [[i] for i in range(SOURCE_CLASSES)]:
            fail(f"{where}: class i must map to [i]")
        wnids = [c.get("wnid") for c in cl]
        if any(not isinstance(w, str) or len(w) != 9 or not w.startswith("n") for w in wnids):
            fail(f"{where}: every class needs a 9-character wnid")
        if wnids != sorted(wnids) or len(set(wnids)) != SOURCE_CLASSES:
            fail(f"{where}: wnids must be distinct and in sorted (standard ILSVRC-2012) order")
        doc["_wnids"] = wnids
    return doc, names, members


def generate() -> str:
    loaded = [(spec, *load_space(spec[0], spec[1], *spec[3:])) for spec in SPACES]
    L = [
        "// GENERATED by scripts/embed_label_spaces.py from data/labelspaces/*.json. Do not edit:",
        "// edit the JSON (keeping its \"source\" and \"license\" accurate) and rerun",
        "//     python3 scripts/embed_label_spaces.py",
        "// Sources, licences and caveats of every list: data/labelspaces/README.md.",
        "",
        "/// The embedded label-space tables (validated by the generator: counts, indices in 0..<1000,",
        "/// disjoint classes). `LabelSpace` (LabelSpaces.swift) is the public view.",
        "enum LabelSpaceData {",
        "    struct Entry {",
        "        /// The stable lowercase name (`LabelSpace.names`).",
        "        let name: String",
        "        /// The dataset's display name.",
        "        let dataset: String",
        "        /// One name per class, in label order.",
        "        let classNames: [String]",
        "        /// Per class, its ImageNet-1k indices (empty for an unmapped class).",
        "        let members: [[Int]]",
        "    }",
        "",
    ]
    for (name, fname, ident, *_), doc, names, members in loaded:
        if name == "imagenet":
            L.append("    /// ImageNet-1k WordNet ids in index order (imagenet_1k.json).")
            L.append("    static let imagenetWnids: [String] = [")
            L += wrap([swift_string(w) for w in doc["_wnids"]], "        ")
            L.append("    ]")
            L.append("")
        L.append(f"    /// {doc['dataset']} ({fname}): {len(names)} classes, {sum(map(len, members))} ImageNet-1k indices.")
        L.append(f"    static let {ident} = Entry(")
        L.append(f"        name: {swift_string(name)}, dataset: {swift_string(doc['dataset'])},")
        L.append("        classNames: [")
        L += wrap([swift_string(n) for n in names], "            ")
        L.append("        ],")
        if name == "imagenet":
            L.append("        members: (0..<1000).map { [$0] })")
        else:
            L.append("        members: [")
            L += wrap(["[" + ", ".join(map(str, m)) + "]" for m in members], "            ")
            L.append("        ])")
        L.append("")
    L.append("    /// Every space, in the order of `LabelSpace.names`.")
    L.append("    static let all: [Entry] = [" + ", ".join(s[2] for s in SPACES) + "]")
    L.append("}")
    L.append("")
    return "\n".join(L)


def main() -> int:
    global DATA, OUT
    args = sys.argv[1:]
    check = "--check" in args
    write = not check
    for flag in ("--data", "--out"):
        if flag in args:
            i = args.index(flag)
            if i + 1 >= len(args):
                print(f"embed_label_spaces: {flag} needs a path", file=sys.stderr)
                return 2
            if flag == "--data":
                DATA = Path(args[i + 1]).resolve()
                write = "--out" in args
            else:
                OUT = Path(args[i + 1]).resolve()
    try:
        text = generate()
    except DataError as e:
        print(f"embed_label_spaces: ERROR: {e}", file=sys.stderr)
        return 2
    if check:
        if not OUT.is_file() or OUT.read_text(encoding="utf-8") != text:
            print(f"embed_label_spaces: {OUT} is stale; rerun scripts/embed_label_spaces.py", file=sys.stderr)
            return 1
        print(f"{OUT} is up to date")
        return 0
    if not write:
        print(f"{DATA}: valid")
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
