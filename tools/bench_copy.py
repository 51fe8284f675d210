"""Benchmark: copying a model's unchanged .bin (modelfile.fileio.copy_file) vs ``cp``, same run (not a test).

Target: >= 0.8x cp's speed. Measures a dense file (random bytes) and a sparse one (holes stay holes).

    python tools/bench_copy.py [--mb 512] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from modelfile.fileio import copy_file  # noqa: E402


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=ROOT) as d:
        work = Path(d)
        dense = work / "dense.bin"
        with open(dense, "wb") as f:
            for _ in range(args.mb):
                f.write(os.urandom(1 << 20))
        sparse = work / "sparse.bin"
        with open(sparse, "wb") as f:
            f.truncate(args.mb << 20)
            f.seek(args.mb << 19)
            f.write(os.urandom(1 << 20))
        for src in (dense, sparse):
            dst = work / "out.bin"

            def cp(sync: bool) -> None:
                subprocess.run(["cp", str(src), str(dst)], check=True)
                if sync:  # what the save gate adds before its commit: the copy is on disk
                    fd = os.open(dst, os.O_RDONLY)
                    os.fsync(fd)
                    os.close(fd)
                os.unlink(dst)

            def mf(durable: bool) -> None:
                copy_file(src, dst, durable=durable)
                os.unlink(dst)

            t_cp, t_mf = best(lambda: cp(False), args.repeat), best(lambda: mf(False), args.repeat)
            t_cps, t_mfs = best(lambda: cp(True), args.repeat), best(lambda: mf(True), args.repeat)
            copy_file(src, dst)
            blocks = os.stat(dst).st_blocks * 512
            print(f"{src.name:<11} {args.mb} MB: cp {t_cp * 1e3:7.1f} ms, modelfile {t_mf * 1e3:7.1f} ms -> "
                  f"{t_cp / t_mf:.2f}x cp's speed (target >= 0.8); both flushed to disk: cp+fsync "
                  f"{t_cps * 1e3:7.1f} ms, modelfile {t_mfs * 1e3:7.1f} ms -> {t_cps / t_mfs:.2f}x; "
                  f"the copy occupies {blocks >> 20} MB on disk")
            os.unlink(dst)


if __name__ == "__main__":
    main()
