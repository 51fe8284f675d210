#!/usr/bin/env python3
"""Time ``cut-state`` (load + cut_state + save) against OpenVINO's read + StatefulToStateless + save.

The model is a KV-cache IR with ``--layers`` layers (2 states each, +1), built
with OpenVINO's opset API by ``tools/make_fixtures_llm.py``, or any stateful IR
given with ``--model`` (e.g. a 32-layer optimum-intel export: 64 states).
Each side runs ``--repeat`` times, interleaved; min and median wall times are printed, and the
per-round ratio of the edit (without the gate) to OpenVINO's.

``--cli`` times what a user runs instead, each a fresh process: ``modelfile cut-state SRC -o OUT``
(import, load, edit, the save gate with OpenVINO's read_model, the report) against a Python process
that imports openvino, reads, transforms and saves.

    python tools/bench_cut_state.py --layers 32
    python tools/bench_cut_state.py --model llama32/openvino_model.xml [--cli]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _model(a: argparse.Namespace, out: Path) -> Path:
    """``--model``, or a KV-cache IR of ``--layers`` layers built in ``out`` with OpenVINO's opset API."""
    if a.model is not None:
        return Path(a.model)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from make_fixtures_llm import make_kv_opset

    return make_kv_opset(out / "model", a.layers)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path)
    ap.add_argument("--layers", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cli", action="store_true", help="time the command line against a Python process")
    ap.add_argument("--baseline", type=Path, help="with --cli: also time this checkout's command line "
                    "(python -m modelfile with it first on PYTHONPATH), e.g. a worktree of an older commit")
    a = ap.parse_args()
    if a.cli:
        return _cli(a)

    import openvino as ov
    from openvino._offline_transformations import stateful_to_stateless_transformation

    import modelfile
    from modelfile.passes.state import cut_state

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        src = _model(a, out)

        def ours() -> None:  # what `modelfile cut-state` does: the save gate re-reads, lints, runs OpenVINO
            m = modelfile.load(src)
            cut_state(m)
            m.save(out / "ours.xml")

        def ours_write() -> None:  # the same edit written without the gate's checks
            m = modelfile.load(src)
            cut_state(m)
            m.handler.write(m, out / "ours_w.xml")

        def theirs() -> None:
            om = ov.Core().read_model(str(src))
            stateful_to_stateless_transformation(om)
            ov.save_model(om, str(out / "theirs.xml"), compress_to_fp16=False)

        n_states = len(ov.Core().read_model(str(src)).get_sinks())
        print(f"{src.name}: {n_states} states")
        rows = (("modelfile load+cut_state+save (gate)", ours), ("modelfile load+cut_state+write", ours_write),
                ("openvino read+transformation+save", theirs))
        times: dict[str, list[float]] = {name: [] for name, _fn in rows}
        for _ in range(a.repeat):  # interleaved: a shared machine's drift hits every row alike
            for name, fn in rows:
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
        for name, _fn in rows:
            ts = times[name]
            print(f"{name:40s} min {min(ts):.3f} s  median {statistics.median(ts):.3f} s")
        w, o = times[rows[1][0]], times[rows[2][0]]
        ratios = sorted(x / y for x, y in zip(w, o))
        print(f"write / openvino per round: median {statistics.median(ratios):.2f}x "
              f"(range {ratios[0]:.2f}-{ratios[-1]:.2f}x over {len(ratios)} rounds)")
    return 0


_OV_SCRIPT = ("import sys, openvino as ov\n"
              "from openvino._offline_transformations import stateful_to_stateless_transformation\n"
              "om = ov.Core().read_model(sys.argv[1]); stateful_to_stateless_transformation(om)\n"
              "ov.save_model(om, sys.argv[2], compress_to_fp16=False)\n")


def _cli(a: argparse.Namespace) -> int:
    import subprocess

    exe = Path(sys.executable)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        src = _model(a, out)
        mf = exe.with_name("modelfile")
        cmd_mf = [str(mf), "cut-state", str(src), "-o", str(out / "ours.xml")] if mf.exists() else \
            [str(exe), "-m", "modelfile", "cut-state", str(src), "-o", str(out / "ours.xml")]
        rows = [("modelfile cut-state -o (process)", cmd_mf, None),
                ("python: openvino read+transformation+save", [str(exe), "-c", _OV_SCRIPT, str(src),
                                                               str(out / "theirs.xml")], None)]
        if a.baseline is not None:
            env = dict(os.environ, PYTHONPATH=str(a.baseline.resolve()))
            rows.append((f"baseline {a.baseline.name} cut-state -o", [str(exe), "-m", "modelfile", "cut-state",
                                                                     str(src), "-o", str(out / "base.xml")], env))
        for _name, cmd, env in rows:  # warm the page cache and the byte-compiled modules
            subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=tmp)
        times: dict[str, list[float]] = {name: [] for name, _, _ in rows}
        for _ in range(a.repeat):
            for name, cmd, env in rows:
                t = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=tmp)
                times[name].append(time.perf_counter() - t)
        for name, _, _ in rows:
            ts = times[name]
            print(f"{name:44s} min {min(ts):.3f} s  median {statistics.median(ts):.3f} s")
        for name, _, _ in [rows[0], *rows[2:]]:
            ratios = sorted(x / y for x, y in zip(times[name], times[rows[1][0]]))
            print(f"{name} / openvino per round: median {statistics.median(ratios):.2f}x "
                  f"(range {ratios[0]:.2f}-{ratios[-1]:.2f}x over {len(ratios)} rounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
