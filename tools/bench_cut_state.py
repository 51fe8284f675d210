#!/usr/bin/env python3
"""Time ``cut-state`` (load + cut_state + save) against OpenVINO's read + StatefulToStateless + save.

The model is a KV-cache IR with ``--layers`` layers (2 states each, +1), built
with OpenVINO's opset API by ``tools/make_fixtures_llm.py``, or any stateful IR
given with ``--model`` (e.g. a 32-layer optimum-intel export: 64 states).
Each side runs ``--repeat`` times, interleaved; min and median wall times are printed, and the
per-round ratio of the edit (without the gate) to OpenVINO's.

    python tools/bench_cut_state.py --layers 32
    python tools/bench_cut_state.py --model llama32/openvino_model.xml
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path)
    ap.add_argument("--layers", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()

    import openvino as ov
    from openvino._offline_transformations import stateful_to_stateless_transformation

    import modelfile
    from modelfile.passes.state import cut_state

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        src = a.model
        if src is None:
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from make_fixtures_llm import make_kv_opset

            src = make_kv_opset(out / "model", a.layers)

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


if __name__ == "__main__":
    sys.exit(main())
