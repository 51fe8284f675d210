"""Bad input: one line naming file:line:col, exit code 2, never a traceback, file untouched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelfile.cli import app

runner = CliRunner()

GOOD_LAYER = "Input in0 0 1 in0\n"
CASES: dict[str, tuple[bytes, str, str]] = {
    # name: (content, expected "line:col" position, words in the message)
    "wrong_magic": (b"7767518\n1 1\n" + GOOD_LAYER.encode(), ":1:1:", "magic"),
    "truncated_line": (b"7767517\n2 2\nInput in0 0 1 in0\nReLU relu 1 1 in0\n", ":4:", "declares 1 bottom and 1 top"),
    "truncated_mid_counts": (b"7767517\n2 2\nInput in0 0 1 in0\nReLU relu 1\n", ":4:", "ends too early"),
    "bad_count": (b"7767517\n3 2\nInput in0 0 1 in0\nReLU relu 1 1 in0 out\n", ":2:1:", "declares 3 layers"),
    "bad_count_number": (b"7767517\n2 2x\n" + GOOD_LAYER.encode(), ":2:3:", "bad number"),
    "zero_count": (b"7767517\n0 0\n", ":2:1:", "must be > 0"),
    "bad_number_in_layer": (b"7767517\n1 1\nInput in0 zero 1 in0\n", ":3:11:", "expected a number"),
    "non_utf8": (b"7767517\n1 1\nInput in\xff0 0 1 in0\n", ":3:9:", "UTF-8"),
    "empty": (b"", ":1:1:", "empty"),
    "whitespace_only": (b"  \n\n", ":1:1:", "empty"),
    "binary_garbage": (bytes(range(256)) * 4, ":1:1:", "binary"),
    "huge_line": (b"7767517\n1 1\nInput " + b"n" * 2_000_000 + b" 0 1 in0\n", ":3:7:", "longer than 255"),
    "huge_garbage_first_line": (b"x" * 3_000_000, ":1:1:", "magic"),
    "pnnx_lookalike": (
        b"7767517\n3 2\npnnx.Input               pnnx_input_0             0 1 0 #0=(1,3,64,64)f32\n"
        b"nn.Conv2d                conv                     1 1 0 1 bias=True dilation=(1,1) @weight=(8,3,3,3)f32\n"
        b"pnnx.Output              pnnx_output_0            1 0 1\n", ":3:1:", "pnnx"),
    "key_without_value_sep": (b"7767517\n1 1\nInput in0 0 1 in0 0=1 junk\n", ":3:", "unexpected"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_one_line_error(name: str, tmp_path: Path) -> None:
    content, pos, words = CASES[name]
    p = tmp_path / "bad.param"
    p.write_bytes(content)
    result = runner.invoke(app, ["info", str(p)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert lines, "no error printed"
    first = lines[0]
    assert first.startswith(str(p) + ":"), first
    assert pos in first, first
    assert words.lower() in first.lower(), first
    assert "Traceback" not in result.output + result.stderr
    assert all(len(ln) < 400 for ln in lines)  # huge lines are cut in the excerpt
    assert p.read_bytes() == content


@pytest.mark.parametrize("cmd", [["fmt"], ["patch", "--add-sherpa-meta", "--model-type", "lstm", "--num-encoder-layers",
                                               "1", "--encoder-dim", "2", "--rnn-hidden-size", "3", "--in-place"]])
def test_edit_commands_leave_bad_files_alone(cmd: list[str], tmp_path: Path) -> None:
    p = tmp_path / "bad.param"
    content = b"7767517\n2 2\nInput in0 0 1 in0\nReLU relu 1 1 in0\n"
    p.write_bytes(content)
    result = runner.invoke(app, [cmd[0], str(p), *cmd[1:]])
    assert result.exit_code == 2
    assert p.read_bytes() == content
    assert sorted(x.name for x in tmp_path.iterdir()) == ["bad.param"]  # no temp files left


def test_missing_file_and_directory(tmp_path: Path) -> None:
    r = runner.invoke(app, ["info", str(tmp_path / "nope.param")])
    assert r.exit_code == 2 and "no such file" in r.stderr
    r = runner.invoke(app, ["info", str(tmp_path)])
    assert r.exit_code == 2 and "directory" in r.stderr


def test_console_script_runs_as_module(tmp_path: Path) -> None:
    p = tmp_path / "bad.param"
    p.write_bytes(b"1234\n")
    r = subprocess.run([sys.executable, "-m", "modelfile", "info", str(p)], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.splitlines()[0] == f"{p}:1:1: expected magic number 7767517, found '1234' (param is too old or not an ncnn file)"
    assert "Traceback" not in r.stderr


IR_HEAD = '<?xml version="1.0"?>\n<net name="x" version="11">\n<layers>\n'
IR_CASES: dict[str, tuple[bytes, str]] = {
    "truncated_ends_in_newline": ((IR_HEAD + '<layer id="0" name="a" type="Parameter" version="opset1">\n').encode(),
                                  "malformed XML"),
    "truncated_mid_tag": ((IR_HEAD + '<layer id="0" name="a" ty').encode(), "malformed XML"),
    "doctype_entity": (b'<!DOCTYPE x [<!ENTITY a "b">]>\n<net version="11"/>', "DTDs/entities"),
    "binary": (bytes(range(256)) * 8, ""),
    "not_xml": (b"hello world\n", ""),
    "wrong_root": (b'<?xml version="1.0"?>\n<model version="11"></model>\n', ""),
    "old_version": (b'<?xml version="1.0"?>\n<net name="x" version="7"><layers/><edges/></net>\n', "version"),
    "edge_to_missing_layer": ((IR_HEAD + '<layer id="0" name="a" type="Parameter" version="opset1">'
                               '<data shape="1" element_type="f32"/><output><port id="0" precision="FP32">'
                               '<dim>1</dim></port></output></layer>\n</layers>\n<edges>\n'
                               '<edge from-layer="0" from-port="0" to-layer="9" to-port="0"/>\n</edges>\n</net>\n'
                               ).encode(), "9"),
}


@pytest.mark.parametrize("name", sorted(IR_CASES))
def test_bad_ir_is_one_line_error(name: str, tmp_path: Path) -> None:
    content, words = IR_CASES[name]
    p = tmp_path / "bad.xml"
    p.write_bytes(content)
    result = runner.invoke(app, ["info", str(p)])
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    first = result.stderr.splitlines()[0]
    assert first.startswith(str(p) + ":"), first
    assert words in first, first
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert p.read_bytes() == content
