"""How many fuzz mutations does lint pass that the runtime then refuses? (issue #9's measurement)

    PYTHONPATH=/path/to/a/modelfile/checkout python tools/fuzz_measure.py [--per-file N] [--ignore IR020]

Builds the same seeded cases as ``tests/fuzz`` (the mutations are pure text work, so any modelfile
version can be measured: run it once with an old checkout first on ``PYTHONPATH`` and once with this
one), keeps those the checkout loads and lints without an error (and without an app-supplied layer,
NCNN012), and loads every one of them in ncnn (``load_param`` + ``load_model``) or OpenVINO
(``read_model``) in a child process. Prints the counts per format and the categories of the refusals.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE / "tests" / "fuzz"))

from harness import runtime_loads, write_case  # noqa: E402
from mutations import cases  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-file", type=int, default=26)
    ap.add_argument("--show", action="store_true", help="print each refused case's file and the runtime's message")
    ap.add_argument("--ignore", default="", help="lint codes to leave out (e.g. IR020: static rules only)")
    args = ap.parse_args()
    import modelfile
    from modelfile.errors import ModelfileError
    from modelfile.lint import lint_file

    ignore = [c for c in args.ignore.split(",") if c]
    corpus = HERE.parent / "shared" / "corpus"
    cs = cases(HERE, corpus, args.per_file, big=False)
    tmp = Path(tempfile.mkdtemp(prefix="mf-measure-"))
    print(f"cases written under {tmp}")
    clean: dict[str, list[tuple[str, Path]]] = {"ncnn": [], "ir": []}
    case_of: dict[str, list] = {"ncnn": [], "ir": []}
    total: Counter[str] = Counter()
    for i, c in enumerate(cs):
        kind = "ir" if c.kind == "ir" else "ncnn"
        total[kind] += 1
        p = write_case(c, tmp / str(i))
        try:
            modelfile.load(p)
        except ModelfileError:
            continue
        except Exception:
            continue  # a crash: not "accepted"
        try:
            diags = lint_file(p, ignore=ignore or None)
        except Exception:
            continue
        codes = {d.code for d in diags}
        if any(d.severity.value == "error" for d in diags) or "NCNN012" in codes or "NCNN009" in codes:
            continue
        clean[kind].append((c.category, p))
        case_of[kind].append(c)
    print(f"modelfile from {Path(modelfile.__file__).parent.parent}; {len(cs)} cases"
          + (f"; lint without {','.join(ignore)}" if ignore else ""))
    seeds_by_kind: dict[str, list[Path]] = {"ncnn": [], "ir": []}
    for c in cs:
        k = "ir" if c.kind == "ir" else "ncnn"
        if c.seed_file not in seeds_by_kind[k]:
            seeds_by_kind[k].append(c.seed_file)
    for kind, items in clean.items():
        # as in the test: only mutations of seeds the runtime loads here (weightless corpus IRs get zeros)
        seeds = seeds_by_kind[kind]
        ok = {s for s, (rc, _m) in zip(seeds, runtime_loads(kind, seeds)) if rc == 0}
        items = [(cat, p) for (cat, p), c in zip(items, case_of[kind]) if c.seed_file in ok
                 and not (c.weights is None and b'element_type="string"' in c.data)]
        res = runtime_loads(kind, [p for _c, p in items])
        refused = [(cat, rc) for (cat, _p), (rc, _m) in zip(items, res) if rc != 0]
        if args.show:
            for (cat, p), (rc, msg) in zip(items, res):
                if rc != 0:
                    print(f"    refused ({cat}, exit {rc}): {p} {str(msg)[:200]!r}")
        share = f"{100 * len(refused) / len(items):.1f}%" if items else "-"
        print(f"{kind}: {total[kind]} cases, {len(items)} load and lint without error, "
              f"{len(refused)} of those refused by the runtime ({share})")
        for cat, n in Counter(cat for cat, _rc in refused).most_common():
            print(f"    {cat}: {n}")


if __name__ == "__main__":
    main()
