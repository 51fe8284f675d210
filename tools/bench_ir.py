"""Benchmark: modelfile load+save of an OpenVINO IR vs ``openvino.Core().read_model`` (not a test).

In one run:

1. Generates a chain IR of ``--ops`` layers (Parameter, then Const/Add/ReLU triples, Result) with
   ``openvino.save_model``, so the file looks exactly like the serializer's output; then the same
   chain with a tensor name on every ReLU output (as PyTorch conversions have): every port block is
   then unique text (the reader memoizes it with the names blanked).
2. Times ``read_model`` (in a child process, so openvino's objects do not sit in our heap) and
   modelfile ``load`` + ``save`` (unchanged model -> byte-identical copy) on that file, interleaved,
   ``--repeat`` times each; prints best and median and the ratio (target: <= 0.5).
   Also times a save after a small edit (one tensor renamed), which splices the text.
3. Peak RSS while editing a model whose ``.bin`` is ``--sparse-gb`` GB (sparse): load, rename an
   input, save (the .bin is copied), change one small Const, save (the .bin is rewritten).

    python tools/bench_ir.py [--ops 20000] [--repeat 7] [--sparse-gb 4]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_OV_CHILD = r"""
import json, sys, time
import numpy as np
import openvino as ov
mode, path = sys.argv[1], sys.argv[2]
if mode == "make":
    import openvino.opset13 as ops
    n, named = int(sys.argv[3]), sys.argv[4] == "named"
    x = ops.parameter([1, 64], np.float32, name="x")
    x.output(0).get_tensor().set_names({"x"})
    h = x
    for i in range((n - 2) // 3):
        h = ops.relu(ops.add(h, ops.constant(np.full((1, 64), i % 7, np.float32))))
        if named:  # as PyTorch conversions name most op outputs
            h.output(0).get_tensor().set_names({f"t{i}"})
    r = ops.result(h)
    r.output(0).get_tensor().set_names({"y"})
    ov.save_model(ov.Model([r], [x], "chain"), path, compress_to_fp16=False)
    print(json.dumps({"ops": len(ov.Model([r], [x]).get_ops())}))
else:
    core = ov.Core()
    times = []
    for _ in range(int(sys.argv[3])):
        t = time.perf_counter()
        m = core.read_model(path)
        times.append(time.perf_counter() - t)
        del m
    print(json.dumps(times))
"""

_SPARSE_CHILD = r"""
import sys, time, json
import numpy as np

def hwm_mb():
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the parent process
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

sys.path.insert(0, sys.argv[1])
import modelfile
from modelfile.formats.openvino import const_array, set_const_value
xml, out = sys.argv[2], sys.argv[3]
rss0 = hwm_mb()
t = time.perf_counter(); m = modelfile.load(xml); t_load = time.perf_counter() - t
m.graph.inputs[0].name = "renamed"
t = time.perf_counter(); r1 = m.save(out + "/copied.xml"); t_copy = time.perf_counter() - t
set_const_value(m.find_node("small"), np.array([7.0, 8.0], np.float32))
t = time.perf_counter(); r2 = m.save(out + "/rewritten.xml"); t_rewrite = time.perf_counter() - t
peek = float(const_array(m.find_node("big"))[:1024].sum())  # a lazy view: touches one page
print(json.dumps({"rss_mb": hwm_mb(), "rss_after_imports_mb": rss0, "load_s": t_load, "save_copy_s": t_copy,
                  "save_rewrite_s": t_rewrite, "weights": [r1.weights, r2.weights]}))
"""

_SPARSE_XML = """<?xml version="1.0"?>
<net name="sparse" version="11">
	<layers>
		<layer id="0" name="x" type="Parameter" version="opset1">
			<data shape="2" element_type="f32" />
			<output>
				<port id="0" precision="FP32" names="x">
					<dim>2</dim>
				</port>
			</output>
		</layer>
		<layer id="1" name="big" type="Const" version="opset1">
			<data element_type="f32" shape="{n}" offset="0" size="{size}" />
			<output>
				<port id="0" precision="FP32">
					<dim>{n}</dim>
				</port>
			</output>
		</layer>
		<layer id="2" name="axis" type="Const" version="opset1">
			<data element_type="i64" shape="1" offset="{size}" size="8" />
			<output>
				<port id="0" precision="I64">
					<dim>1</dim>
				</port>
			</output>
		</layer>
		<layer id="3" name="sum" type="ReduceSum" version="opset1">
			<data keep_dims="true" />
			<input>
				<port id="0" precision="FP32">
					<dim>{n}</dim>
				</port>
				<port id="1" precision="I64">
					<dim>1</dim>
				</port>
			</input>
			<output>
				<port id="2" precision="FP32">
					<dim>1</dim>
				</port>
			</output>
		</layer>
		<layer id="4" name="small" type="Const" version="opset1">
			<data element_type="f32" shape="2" offset="{size2}" size="8" />
			<output>
				<port id="0" precision="FP32">
					<dim>2</dim>
				</port>
			</output>
		</layer>
		<layer id="5" name="add" type="Add" version="opset1">
			<data auto_broadcast="numpy" />
			<input>
				<port id="0" precision="FP32">
					<dim>2</dim>
				</port>
				<port id="1" precision="FP32">
					<dim>2</dim>
				</port>
			</input>
			<output>
				<port id="2" precision="FP32" names="y">
					<dim>2</dim>
				</port>
			</output>
		</layer>
		<layer id="6" name="mul" type="Multiply" version="opset1">
			<data auto_broadcast="numpy" />
			<input>
				<port id="0" precision="FP32">
					<dim>2</dim>
				</port>
				<port id="1" precision="FP32">
					<dim>1</dim>
				</port>
			</input>
			<output>
				<port id="2" precision="FP32" names="z">
					<dim>2</dim>
				</port>
			</output>
		</layer>
		<layer id="7" name="out" type="Result" version="opset1">
			<input>
				<port id="0" precision="FP32">
					<dim>2</dim>
				</port>
			</input>
		</layer>
	</layers>
	<edges>
		<edge from-layer="0" from-port="0" to-layer="5" to-port="0" />
		<edge from-layer="1" from-port="0" to-layer="3" to-port="0" />
		<edge from-layer="2" from-port="0" to-layer="3" to-port="1" />
		<edge from-layer="4" from-port="0" to-layer="5" to-port="1" />
		<edge from-layer="5" from-port="2" to-layer="6" to-port="0" />
		<edge from-layer="3" from-port="2" to-layer="6" to-port="1" />
		<edge from-layer="6" from-port="2" to-layer="7" to-port="0" />
	</edges>
	<rt_info />
</net>
"""


def _child(code: str, *args: str) -> str:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"child failed:\n{out.stderr}")
    return out.stdout.strip().splitlines()[-1]


def _fmt(xs: list[float]) -> str:
    return f"best {min(xs) * 1e3:7.1f} ms   median {statistics.median(xs) * 1e3:7.1f} ms"


def bench_speed(n_ops: int, repeat: int, work: Path, named: bool = False) -> None:
    import modelfile
    from modelfile.formats.openvino import is_modified

    xml = work / f"chain{n_ops}{'_named' if named else ''}.xml"
    made = json.loads(_child(_OV_CHILD, "make", str(xml), str(n_ops), "named" if named else "plain"))
    print(f"generated {xml.name}: {made['ops']} ops, {xml.stat().st_size / 1e6:.1f} MB xml"
          + (", every ReLU output named" if named else ""))
    ov_times: list[float] = []
    load_t: list[float] = []
    save_t: list[float] = []
    total_t: list[float] = []
    edit_t: list[float] = []
    out = work / "out.xml"
    rounds = max(1, repeat)
    for _ in range(rounds):
        ov_times += json.loads(_child(_OV_CHILD, "time", str(xml), "2"))
        for _ in range(2):
            gc.collect()  # garbage of the previous round must not be collected on our clock
            t0 = time.perf_counter()
            m = modelfile.load(xml)
            t1 = time.perf_counter()
            m.handler.write(m, out)  # the writer alone; the save gate is measured by bench_edit.py
            t2 = time.perf_counter()
            load_t.append(t1 - t0)
            save_t.append(t2 - t1)
            total_t.append(t2 - t0)
            assert out.read_bytes() == xml.read_bytes()
            assert not is_modified(m)
            m.graph.inputs[0].name = "x_renamed"
            t3 = time.perf_counter()
            m.handler.write(m, out)
            edit_t.append(time.perf_counter() - t3)
            del m
    print(f"openvino read_model      {_fmt(ov_times)}")
    print(f"modelfile load           {_fmt(load_t)}")
    print(f"modelfile save unchanged {_fmt(save_t)}")
    print(f"modelfile load+save      {_fmt(total_t)}")
    print(f"modelfile save after edit{_fmt(edit_t)}")
    ratio_best = min(total_t) / min(ov_times)
    ratio_med = statistics.median(total_t) / statistics.median(ov_times)
    print(f"ratio load+save / read_model: best {ratio_best:.2f}, median {ratio_med:.2f}   (target <= 0.50)")


def bench_sparse(gb: float, work: Path) -> None:
    size = int(gb * 1024 ** 3) // 4 * 4
    xml = work / "sparse.xml"
    xml.write_text(_SPARSE_XML.format(n=size // 4, size=size, size2=size + 8))
    with open(xml.with_suffix(".bin"), "wb") as f:
        f.truncate(size + 16)
    res = json.loads(_child(_SPARSE_CHILD, str(ROOT), str(xml), str(work)))
    print(f"sparse {gb:g} GB .bin: load {res['load_s'] * 1e3:.1f} ms, save (bin {res['weights'][0]}) "
          f"{res['save_copy_s']:.2f} s, save (bin {res['weights'][1]}) {res['save_rewrite_s']:.2f} s")
    print(f"peak RSS {res['rss_mb']:.0f} MB (after imports {res['rss_after_imports_mb']:.0f} MB)   "
          f"(target < 300 MB)")
    try:
        import openvino as ov  # noqa: F401 - only to confirm the runtime takes the rewritten pair

        check = textwrap.dedent("""
            import sys, numpy as np, openvino as ov
            core = ov.Core()
            r = core.compile_model(sys.argv[1], "CPU").create_infer_request().infer({0: np.ones(2, np.float32)})
            print(list(r.values())[0].tolist())
        """)
        print("read_model + infer on the rewritten pair:", _child(check, str(work / "rewritten.xml")))
    except ImportError:
        pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sparse-gb", type=float, default=4.0)
    ap.add_argument("--skip-sparse", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_ir_") as d:
        work = Path(d)
        bench_speed(args.ops, args.repeat, work)
        bench_speed(args.ops, args.repeat, work, named=True)
        if not args.skip_sparse:
            bench_sparse(args.sparse_gb, work)


if __name__ == "__main__":
    main()
