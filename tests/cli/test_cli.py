"""The CLI surface: info and fmt on real files, help texts, JSON output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from conftest import FIXTURES, corpus_files
from modelfile.cli import app

runner = CliRunner()


def test_info_json_ncnn() -> None:
    r = runner.invoke(app, ["info", str(FIXTURES / "ncnn" / "decoder.ncnn.param"), "--json"])
    assert r.exit_code == 0
    d = json.loads(r.stdout)
    assert d["format"] == "ncnn" and d["layers"] == 6 and d["blobs"] == 8
    assert [i["name"] for i in d["inputs"]] == ["in0", "in1", "in2"]
    assert {o["name"] for o in d["outputs"]} == {"out0", "out1", "out2"}
    assert d["layer_types"] == {"Input": 3, "Embed": 1, "LSTM": 1, "Gemm": 1}


def test_info_lists_custom_types() -> None:
    files = [p for p in corpus_files("ncnn") if p.name.endswith("custom_layer.param")]
    if not files:
        return
    r = runner.invoke(app, ["info", str(files[0]), "--json"])
    assert json.loads(r.stdout)["custom_types"] == ["CustomLayer"]


def test_info_openvino_text_and_json() -> None:
    xml = FIXTURES / "openvino" / "stateful" / "model.xml"
    r = runner.invoke(app, ["info", str(xml)])
    assert r.exit_code == 0 and "previous_state_h" in r.stdout
    d = json.loads(runner.invoke(app, ["info", str(xml), "--json"]).stdout)
    assert d["format"] == "openvino"
    assert {s["variable_id"] for s in d["states"]} == {"previous_state_h", "previous_state_c"}


def test_fmt_check_stdout_and_in_place(tmp_path: Path) -> None:
    p = tmp_path / "m.param"
    p.write_text("7767517\n2 2\nInput in0 0 1 in0\nReLU                     relu                     1 1 in0 out0 0=1.0e-1\n")
    r = runner.invoke(app, ["fmt", str(p), "--check"])
    assert r.exit_code == 1 and "would be reformatted" in r.stderr
    r = runner.invoke(app, ["fmt", str(p), "--style", "pnnx"])
    assert r.exit_code == 0
    assert r.stdout.splitlines()[2] == "Input                    in0                      0 1 in0"
    r = runner.invoke(app, ["fmt", str(p), "--in-place", "--style", "pnnx"])
    assert r.exit_code == 0
    assert runner.invoke(app, ["fmt", str(p), "--check", "--style", "pnnx"]).exit_code == 0
    assert p.read_text().splitlines()[3].endswith("0=1.0e-1")


def test_fmt_check_passes_on_pnnx_fixtures(tmp_path: Path) -> None:
    for p in sorted((FIXTURES / "ncnn").glob("*.param")):
        r = runner.invoke(app, ["fmt", str(p), "--check"])
        assert r.exit_code == 0, p


def test_every_command_has_help() -> None:
    for cmd in ("info", "fmt", "patch", "cut", "freeze", "reshape", "rename", "cut-state", "make-state", "lint"):
        r = runner.invoke(app, [cmd, "--help"])
        assert r.exit_code == 0, cmd
        assert "Example" in r.stdout or cmd == "lint", cmd


def test_output_next_to_input_copies_weights(tmp_path: Path) -> None:
    src = tmp_path / "convlstm.ncnn.param"
    shutil.copy(FIXTURES / "ncnn" / "convlstm.ncnn.param", src)
    shutil.copy(FIXTURES / "ncnn" / "convlstm.ncnn.bin", tmp_path / "convlstm.ncnn.bin")
    r = runner.invoke(app, ["rename", str(src), "in0=x", "-o", str(tmp_path / "out.ncnn.param")])
    assert r.exit_code == 0, r.stderr
    assert (tmp_path / "out.ncnn.bin").read_bytes() == (tmp_path / "convlstm.ncnn.bin").read_bytes()


def test_edit_commands_keep_their_own_help_and_the_shared_options() -> None:
    for cmd, own in (("cut", "mo syntax"), ("rename", "old=new"), ("freeze", "feature_length->157")):
        r = runner.invoke(app, [cmd, "-h"])
        assert r.exit_code == 0 and own in r.stdout, (cmd, r.stdout)
        assert "Model file: ncnn .param or OpenVINO .xml." in r.stdout
        for opt in ("--out", "--in-place", "--dry-run", "--force", "--no-verify", "--custom-layer"):
            assert opt in r.stdout, (cmd, opt)


def test_edit_report_prints_brackets_as_they_are(capsys) -> None:  # type: ignore[no-untyped-def]
    """Names, shapes and notes are plain text: ``[batch, 8, 0, 64]`` is not Rich markup to swallow, ``[/b]``
    not a closing tag to crash on."""
    from modelfile.cli.common import print_report
    from modelfile.report import Report

    rep = Report("cut-state")
    rep.add("state-to-input", "x[/b]", "ReadValue [bold]r", "Parameter [batch, 8, 0, 64]")
    rep.notes.append("zeros of [batch, 8, 0, 64] rebuilt")
    print_report(rep, None, dry_run=True)
    text = capsys.readouterr().out
    for part in ("x[/b]", "[bold]r", "[batch, 8, 0, 64]", "note: zeros of [batch, 8, 0, 64] rebuilt",
                 "dry run: nothing written"):
        assert part in text, part
