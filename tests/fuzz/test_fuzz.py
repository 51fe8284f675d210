"""The fuzz suite: seeded, structure-aware mutations of ``fixtures/`` and ``../shared/corpus``.

For every case (about 2,100, all categories of ``mutations.CATEGORIES``), in-process through the
library: loading succeeds or raises ``ModelfileError`` with ``file:line[:col]``; lint never raises;
no step takes more than 10 s; an unedited save is byte-identical; the loader and lint agree (a file
the loader refuses has a lint error; an XML error of the loader is lint's IR000, and back); ``info``
describes what loads and warns when lint fails. A sample runs through the CLI (exit 0/1/2, never 3,
no traceback, exit 2 with ``file:line``). Everything that loads without a lint error is loaded by the
runtime in a child process (ncnn ``load_param`` + ``load_model``; OpenVINO ``read_model``): lint
promises the runtime takes it.

Deterministic: case ``k`` of a file is seeded by a CRC of its name and ``k``. ``MODELFILE_FUZZ_CASES``
(cases per seed file, default 26) scales the run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import CORPUS, ROOT, has_module
from harness import Outcome, env_with, run_case, runtime_loads, scratch
from mutations import CATEGORIES, cases

PER_FILE = int(os.environ.get("MODELFILE_FUZZ_CASES", "26"))
SHARDS = 8
#: lint-clean cases per runtime loaded in the runtime (evenly spread)
RUNTIME_SAMPLE = 150
#: lint findings that say the app must supply something (a custom layer); the runtime cannot be asked
APP_SUPPLIED = {"NCNN012", "NCNN009"}

_CASES = cases(ROOT, CORPUS, PER_FILE)
_OUTCOMES: dict[str, Outcome] = {}


def _outcomes() -> list[Outcome]:
    """Every case run once per session (the shards fill the cache; the runtime tests read it)."""
    for k in range(SHARDS):
        _run_shard(k)
    return [_OUTCOMES[c.name] for c in _CASES]


def _run_shard(k: int) -> list[Outcome]:
    folder = scratch()
    out = []
    for i, case in enumerate(_CASES):
        if i % SHARDS != k:
            continue
        got = _OUTCOMES.get(case.name)
        if got is None:
            # info runs lint again, the save gate lints twice: each on a sample (the same code paths)
            got = _OUTCOMES[case.name] = run_case(case, folder / str(i), describe=i % 4 == 0,
                                                  full_save=i % 8 == 0)
        out.append(got)
    return out


def test_enough_cases_in_every_category() -> None:
    counts = Counter(c.category for c in _CASES)
    if CORPUS.is_dir():  # 2,000+ cases, and the .param.bin categories, come from the shared corpus
        assert len(_CASES) >= 2000 or PER_FILE < 26
        assert set(counts) == set(CATEGORIES), sorted(set(CATEGORIES) - set(counts))
    else:
        assert set(counts) == {c for c in CATEGORIES if not c.startswith("bin-")}
    assert len({c.name for c in _CASES}) == len(_CASES)


def test_cases_are_deterministic() -> None:
    again = cases(ROOT, CORPUS, 2, big=False)
    first = [c for c in _CASES if c.name in {a.name for a in again}]
    assert [(c.name, c.data) for c in again] == [(c.name, c.data) for c in first]


@pytest.mark.parametrize("shard", range(SHARDS))
def test_contract(shard: int) -> None:
    problems = [f"{o.case.name}: {p}" for o in _run_shard(shard) for p in o.problems]
    assert not problems, "\n".join(problems[:30])


def _runtime_sample(kind: str, most: int = RUNTIME_SAMPLE) -> list[Outcome]:
    """The lint-clean cases of ``kind``, spread evenly over the list, at most ``most`` (loading every ncnn
    model with its weights takes a while; tools/fuzz_measure.py runs them all)."""
    clean = [o for o in _outcomes() if o.case.kind in kind.split("|") and o.clean
             and not APP_SUPPLIED & set(o.lint_codes)
             # string Consts need real packed data: zeros in place of missing weights are not a fair test
             and not (o.case.weights is None and b'element_type="string"' in o.case.data)]
    # a seed the runtime cannot load as it is here (a corpus IR whose Consts need real weights, not the
    # zeros the child gives them) says nothing about its mutations
    seeds = sorted({o.case.seed_file for o in clean})
    ok = {s for s, (rc, _m) in zip(seeds, runtime_loads(kind.split("|")[0], seeds)) if rc == 0}
    clean = [o for o in clean if o.case.seed_file in ok]
    return clean[:: max(1, len(clean) // most)][:most]


@pytest.mark.skipif(not has_module("ncnn"), reason="ncnn not installed")
def test_lint_clean_ncnn_loads_in_ncnn() -> None:
    if not CORPUS.is_dir():
        # the seeded sample is drawn from corpus and fixture mutations together; fixtures alone draw
        # other cases, among them a 2^31-channel BatchNorm that fails only on this child's memory limit
        pytest.skip("the ncnn runtime sample needs ../shared/corpus")
    sample = _runtime_sample("ncnn|ncnn-bin")
    assert len(sample) >= 50
    results = runtime_loads("ncnn", [o.path for o in sample])
    refused = [f"{o.case.name} (rc {rc}): {o.path}" for o, (rc, _m) in zip(sample, results) if rc != 0]
    assert not refused, f"{len(refused)} of {len(sample)} lint-clean mutations refused by ncnn:\n" + \
        "\n".join(refused[:20])


@pytest.mark.skipif(not has_module("openvino"), reason="openvino not installed")
def test_lint_clean_ir_loads_in_openvino() -> None:
    sample = _runtime_sample("ir")
    assert len(sample) >= 20
    results = runtime_loads("ir", [o.path for o in sample])
    refused = [f"{o.case.name} (rc {rc}): {m}" for o, (rc, m) in zip(sample, results) if rc != 0]
    assert not refused, f"{len(refused)} of {len(sample)} lint-clean mutations refused by OpenVINO:\n" + \
        "\n".join(refused[:20])


_LOCATED = re.compile(r"^\S.*?:\d+(?::\d+)?: ")


def test_cli_sample(tmp_path: Path) -> None:
    """Every 150th case (all kinds) through ``python -m modelfile info`` and ``lint``: exit 0/1/2 only, no traceback,
    and an info refusal is one ``file:line[:col]: message`` line."""
    from harness import write_case

    bad = []
    for i, case in enumerate(_CASES[::150]):
        p = write_case(case, tmp_path / str(i))
        for cmd in (["info", str(p)], ["lint", str(p)]):
            r = subprocess.run([sys.executable, "-m", "modelfile", *cmd], capture_output=True, text=True,
                               env=env_with(ROOT), timeout=60)
            if r.returncode not in (0, 1, 2) or "Traceback" in r.stderr or (cmd[0] == "info" and r.returncode == 1):
                bad.append(f"{case.name} {cmd[0]}: exit {r.returncode}: {r.stderr.strip()[-300:]}")
            elif cmd[0] == "info" and r.returncode == 2 and not _LOCATED.match(r.stderr):
                bad.append(f"{case.name} info: exit 2 without file:line: {r.stderr.strip()[:300]}")
    assert not bad, "\n".join(bad)
