"""``modelfile apply`` and passes installed through the ``modelfile.passes`` entry-point group."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

import modelfile
from conftest import FIXTURES, ROOT
from modelfile.cli import app

runner = CliRunner()

PASS = '''
from modelfile.api import Report, params

def run(model):
    """Double the eps of every BatchNorm."""
    report = Report("double-eps")
    for n in model.graph:
        if n.op_type == "BatchNorm":
            before = params(n).eps
            params(n).eps = before * 2
            report.add("set-param", n.name, before, params(n).eps)
    return report
'''


def _model(tmp: Path) -> Path:
    for ext in (".param", ".bin"):
        shutil.copy(FIXTURES / "examples" / f"convbn.ncnn{ext}", tmp / f"convbn.ncnn{ext}")
    return tmp / "convbn.ncnn.param"


def test_apply_runs_a_pass_file_with_the_shared_options(tmp_path: Path) -> None:
    src = _model(tmp_path)
    p = tmp_path / "my_pass.py"
    p.write_text(PASS)
    r = runner.invoke(app, ["apply", str(p), str(src), "--dry-run", "--diff"])
    assert r.exit_code == 0, r.output
    assert "-BatchNorm                bn1                      1 1 conv1 bn1 0=8 1=1.000000e-05" in r.output
    assert "+BatchNorm                bn1                      1 1 conv1 bn1 0=8 1=2.000000e-05" in r.output
    assert src.read_text().count("1.000000e-05") == 2  # dry run: nothing written
    r = runner.invoke(app, ["apply", str(p), str(src), "--in-place", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["transform"] == "double-eps" and len(data["changes"]) == 2 and str(src) in data["written"]
    assert modelfile.load(src).find_node("bn2").params.eps == 2e-5


def test_apply_reports_pass_errors_at_their_line(tmp_path: Path) -> None:
    src = _model(tmp_path)
    cases = {
        "raises.py": ("def run(model):\n    n = model.find_node('nope')\n    return n.params\n",
                      "raises.py:3: the pass raised AttributeError"),
        "noreport.py": ("def run(model):\n    return {}\n", "run() returned dict, not a Report"),
        "norun.py": ("x = 1\n", "defines no run(model) function"),
        "syntax.py": ("def run(model)\n", "syntax.py:1:15: syntax error"),
        "api_error.py": ("from modelfile.api import params\ndef run(model):\n"
                         "    params(model.find_node('conv1')).kernel_w = 1.5\n",
                         "layer 'conv1' (Convolution): param kernel_w is int: got 1.5"),
    }
    for name, (code, message) in cases.items():
        p = tmp_path / name
        p.write_text(code)
        r = runner.invoke(app, ["apply", str(p), str(src), "-o", str(tmp_path / "out.param")])
        assert r.exit_code == 2, (name, r.output)
        assert message in r.output, (name, r.output)
        assert "Traceback" not in r.output
    assert not (tmp_path / "out.param").exists()


def test_installed_pass_becomes_a_command(tmp_path: Path) -> None:
    """A package declaring ``[project.entry-points."modelfile.passes"]`` adds a command (real metadata lookup)."""
    site = tmp_path / "site"
    (site / "epspass").mkdir(parents=True)
    (site / "epspass" / "__init__.py").write_text(PASS)
    dist = site / "epspass-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: epspass\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[modelfile.passes]\ndouble-eps = epspass:run\n")
    src = _model(tmp_path)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]))
    help_out = subprocess.run([sys.executable, "-m", "modelfile", "--help"], capture_output=True, text=True, env=env)
    assert "double-eps" in help_out.stdout and "Installed pass epspass:run (from epspass)" in help_out.stdout
    r = subprocess.run([sys.executable, "-m", "modelfile", "double-eps", str(src), "--json", "-n"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["transform"] == "double-eps"
    r = subprocess.run([sys.executable, "-m", "modelfile", "apply", "double-eps", str(src), "-o",
                        str(tmp_path / "o.ncnn.param")], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert "2.000000e-05" in (tmp_path / "o.ncnn.param").read_text()
    r = subprocess.run([sys.executable, "-m", "modelfile", "apply", "nope", str(src), "-n"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "no installed pass named 'nope'" in r.stderr and "double-eps" in r.stderr
