"""ncnn reshape keeps -23330 output-shape hints true: the Input's is rewritten, stale ones downstream dropped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORPUS, needs_ncnn

import modelfile
from modelfile.mo_input import parse_input
from modelfile.passes.reshape import reshape

SRC = CORPUS / "ncnn" / "Tencent__ncnn__benchmark__models__efficientnet_b0.param"


def test_reshape_updates_and_drops_hints(tmp_path: Path) -> None:
    if not SRC.exists():
        pytest.skip("shared corpus not found")
    m = modelfile.load(SRC)
    hinted = sum(1 for n in m.graph.nodes if 30 in n.attrs)
    rep = reshape(m, parse_input("data[1,3,160,160]"))
    kinds = {c.kind: c for c in rep.changes}
    assert kinds["update-shape-hint"].before == "3,224,224,3" and kinds["update-shape-hint"].after == "3,160,160,3"
    dropped = int(kinds["drop-shape-hint"].target.split()[0])
    assert dropped == hinted - 1 and "no longer hold" in kinds["drop-shape-hint"].detail
    out = tmp_path / "r.param"
    m.save(out)
    lines = out.read_text().splitlines()
    assert "-23330=4,3,160,160,3" in lines[2]
    assert sum("-23330=" in ln for ln in lines) == 1
    # only the Input line and the hinted lines changed
    changed = [a for a, b in zip(SRC.read_text().splitlines(), lines) if a != b]
    assert len(changed) == hinted
    assert not reshape(modelfile.load(out), parse_input("data[1,3,160,160]")).modified


@needs_ncnn
def test_ncnn_loads_the_reshaped_param(tmp_path: Path) -> None:
    if not SRC.exists():
        pytest.skip("shared corpus not found")
    m = modelfile.load(SRC)
    reshape(m, parse_input("data[1,3,160,160]"))
    out = tmp_path / "r.param"
    m.save(out)
    code = "import ncnn,sys; n=ncnn.Net(); sys.exit(n.load_param(sys.argv[1]) != 0)"
    assert subprocess.run([sys.executable, "-c", code, str(out)], check=False, timeout=60).returncode == 0
