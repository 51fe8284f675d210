"""The save gate and the two-file commit: nothing is written that fails its own checks or the runtime;
a model's files change together, even when the process is killed; files behave like a careful Unix tool's."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import modelfile
from conftest import FIXTURES, needs_ncnn, needs_openvino
from modelfile.cli import app
from modelfile.errors import ModelfileError
from modelfile.fileio import recover, stage_dir_for

runner = CliRunner()


def _copy_pair(src: Path, dst_dir: Path, bin_suffix: str = ".bin") -> Path:
    dst = dst_dir / src.name
    shutil.copyfile(src, dst)
    if src.name.endswith(".ncnn.param"):
        b = src.with_name(src.name[: -len(".param")] + ".bin")
        shutil.copyfile(b, dst.with_name(dst.name[: -len(".param")] + ".bin"))
    else:
        shutil.copyfile(src.with_suffix(".bin"), dst.with_suffix(".bin"))
    return dst


def _entries(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir())


# -- the checks ------------------------------------------------------------------------------

@needs_openvino
def test_runtime_refusal_writes_nothing_and_names_the_check(tmp_path: Path) -> None:
    src = FIXTURES / "openvino" / "rnnt" / "joint.xml"
    r = runner.invoke(app, ["reshape", str(src), "f[1,1,7]", "-o", str(tmp_path / "j.xml")])
    assert r.exit_code == 2
    first = r.stderr.splitlines()[0]
    assert first.startswith(f"{tmp_path / 'j.xml'}: not written: the runtime check failed: openvino: ")
    assert "Incompatible MatMul" in first and re.search(r"\(at MatMul_\d+\)$", first)  # OpenVINO numbers it
    assert _entries(tmp_path) == []  # no model, no .bin, no staging folder, no temp file


@needs_openvino
def test_force_writes_with_a_warning_and_no_verify_skips_only_the_runtime(tmp_path: Path) -> None:
    src = FIXTURES / "openvino" / "rnnt" / "joint.xml"
    r = runner.invoke(app, ["reshape", str(src), "f[1,1,7]", "-o", str(tmp_path / "j.xml"), "--force", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [(c["name"], c["status"]) for c in out["checks"]] == [("re-read", "passed"), ("lint", "passed"),
                                                                   ("runtime", "forced")]
    assert any("written with --force" in n for n in out["save_notes"])
    assert _entries(tmp_path) == ["j.bin", "j.xml"]
    r = runner.invoke(app, ["reshape", str(src), "f[1,1,16]", "-o", str(tmp_path / "k.xml"), "--no-verify", "--json"])
    assert r.exit_code == 0, r.output
    checks = json.loads(r.stdout)["checks"]
    assert checks[-1] == {"name": "runtime", "status": "skipped", "detail": "--no-verify"}
    assert [c["status"] for c in checks[:2]] == ["passed", "passed"]


@needs_ncnn
def test_ncnn_runtime_check_refuses_what_ncnn_refuses(tmp_path: Path) -> None:
    from modelfile.formats.ncnn.params import Param

    m = modelfile.load(FIXTURES / "ncnn" / "convlstm.ncnn.param")
    res = m.save(tmp_path / "ok.ncnn.param")
    assert [c.status for c in res.checks] == ["passed", "passed", "passed"] and res.checks[2].detail == "ncnn"
    perm = m.find_node("transpose_4")
    perm.attrs[0] = Param.of(0, -1)  # ncnn's Permute has no order_type -1: load_param fails
    with pytest.raises(ModelfileError, match=r"check failed: .*(load_param|NCNN)") as ei:
        m.save(tmp_path / "bad.ncnn.param")
    assert str(ei.value).startswith(f"{tmp_path / 'bad.ncnn.param'}")
    assert not (tmp_path / "bad.ncnn.param").exists() and not (tmp_path / "bad.ncnn.bin").exists()


@needs_ncnn
def test_runtime_check_skipped_when_the_source_does_not_load_either(tmp_path: Path) -> None:
    shutil.copyfile(FIXTURES / "ncnn" / "convlstm.ncnn.param", tmp_path / "t.ncnn.param")
    (tmp_path / "t.ncnn.bin").write_bytes((FIXTURES / "ncnn" / "convlstm.ncnn.bin").read_bytes()[:100])
    m = modelfile.load(tmp_path / "t.ncnn.param")
    m.find_node("gemm_0").name = "gemm_renamed"  # a harmless edit of a model whose .bin is truncated
    res = m.save(tmp_path / "out.ncnn.param")
    assert res.checks[-1].status == "skipped" and "the source does not load in ncnn either" in res.checks[-1].detail


def test_runtime_skipped_with_a_reason_when_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util as iu

    real = iu.find_spec
    monkeypatch.setattr(iu, "find_spec", lambda name, *a: None if name in ("ncnn", "openvino") else real(name, *a))
    res = modelfile.load(FIXTURES / "ncnn" / "convlstm.ncnn.param").save(tmp_path / "x.ncnn.param")
    assert res.checks[-1].status == "skipped" and 'pip install "modelfile[ncnn]"' in res.checks[-1].detail
    res = modelfile.load(FIXTURES / "openvino" / "rnnt" / "joint.xml").save(tmp_path / "x.xml")
    assert res.checks[-1].status == "skipped" and 'pip install "modelfile[openvino]"' in res.checks[-1].detail


def test_new_lint_errors_block_old_ones_do_not(tmp_path: Path) -> None:
    # a file that already declares too few blobs keeps saving (its error is not the edit's doing) ...
    p = tmp_path / "low.param"
    p.write_text("7767517\n2 1\nInput in0 0 1 a\nReLU r 1 1 a b\n")
    m = modelfile.load(p)
    m.find_node("r").name = "relu"
    res = m.save(tmp_path / "low2.param", verify=False)
    assert res.checks[1].status == "passed" and "already had" in res.checks[1].detail
    # ... but an edit that introduces one is refused
    q = tmp_path / "ok.param"
    q.write_text("7767517\n2 2\nInput in0 0 1 a\nReLU r 1 1 a b\n")
    m = modelfile.load(q)
    m.find_node("r").outputs[0].name = "a"  # two blobs named 'a': ncnn resolves the wrong one
    with pytest.raises(ModelfileError, match="the lint check failed: line 4: NCNN"):
        m.save(tmp_path / "dup.param", verify=False)
    assert not (tmp_path / "dup.param").exists()


# -- files -----------------------------------------------------------------------------------

def test_modes_like_a_careful_unix_tool(tmp_path: Path) -> None:
    src = FIXTURES / "ncnn" / "convlstm.ncnn.param"
    old = os.umask(0o027)
    try:
        res = modelfile.load(src).save(tmp_path / "new.ncnn.param")
    finally:
        os.umask(old)
    for p in res.files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o640, p  # 0666 & ~umask, not mkstemp's 0600
    assert (tmp_path / "new.ncnn.bin").stat().st_ino != (FIXTURES / "ncnn" / "convlstm.ncnn.bin").stat().st_ino
    mine = _copy_pair(src, tmp_path / ".." / tmp_path.name)
    os.chmod(mine, 0o604)
    m = modelfile.load(mine)
    m.find_node("gemm_0").name = "g"
    m.save()
    assert stat.S_IMODE(mine.stat().st_mode) == 0o604  # in place keeps the mode


def test_read_only_in_place_needs_force(tmp_path: Path) -> None:
    p = _copy_pair(FIXTURES / "ncnn" / "convlstm.ncnn.param", tmp_path)
    os.chmod(p, 0o444)
    r = runner.invoke(app, ["rename", str(p), "in0=x", "--in-place"])
    assert r.exit_code == 2 and r.stderr.startswith(f"{p}: is read-only; not replaced")
    assert "in0" in p.read_text()
    r = runner.invoke(app, ["rename", str(p), "in0=x", "--in-place", "--force"])
    assert r.exit_code == 0, r.output
    assert "Input" in p.read_text() and " x " in p.read_text() and stat.S_IMODE(p.stat().st_mode) == 0o444


def test_missing_folder_names_the_users_file_and_leaves_nothing(tmp_path: Path) -> None:
    r = runner.invoke(app, ["rename", str(FIXTURES / "ncnn" / "convlstm.ncnn.param"), "in0=x",
                            "-o", str(tmp_path / "missing" / "dir" / "o.param")])
    assert r.exit_code == 2
    assert r.stderr.splitlines()[0] == f"{tmp_path / 'missing' / 'dir' / 'o.param'}: cannot write: no such directory"
    assert _entries(tmp_path) == []


def test_unedited_save_is_byte_identical_and_keeps_wrong_counts(tmp_path: Path) -> None:
    p = tmp_path / "c.param"
    text = "7767517\n2 2\nInput in0 0 1 a\n   \nReLU r 1 1 a b\n"  # declares too few blobs; a blank line
    p.write_text(text)
    modelfile.load(p).save(tmp_path / "d.param", force=True)
    assert (tmp_path / "d.param").read_text() == text


# -- the two files change together -----------------------------------------------------------

_CASES = {
    "ncnn": (FIXTURES / "ncnn" / "decoder.ncnn.param", "in0->[3 7]"),
    "openvino": (FIXTURES / "openvino" / "rnnt" / "prediction.xml", None),
}


def _ir_freeze_item() -> str:
    m = modelfile.load(_CASES["openvino"][0])
    v = m.inputs[0]
    dims = [d if isinstance(d, int) and d > 0 else 1 for d in (v.shape or (1,))]
    n = int(np.prod(dims))
    return f"{v.name}[{' '.join(map(str, dims))}]->[{' '.join(['1'] * n)}]"


def _pair(main: Path) -> tuple[bytes, bytes]:
    b = main.with_name(main.name[: -len(".param")] + ".bin") if main.suffix == ".param" else main.with_suffix(".bin")
    return main.read_bytes(), b.read_bytes()


def _freeze_cmd(main: Path, item: str) -> list[str]:
    return [sys.executable, "-m", "modelfile", "freeze", str(main), item, "--in-place", "--no-verify"]


@pytest.mark.parametrize("fmt", sorted(_CASES))
def test_sigkill_leaves_old_or_new_pair_never_a_mix(fmt: str, tmp_path: Path) -> None:
    src, item = _CASES[fmt]
    item = item or _ir_freeze_item()
    # the two possible good states
    ref = tmp_path / "ref"
    ref.mkdir()
    old_main = _copy_pair(src, ref)
    old = _pair(old_main)
    subprocess.run(_freeze_cmd(old_main, item), check=True, capture_output=True)
    new = _pair(old_main)
    assert new[0] != old[0] and new[1] != old[1]  # freezing moves data into the .bin: both files change
    env = dict(os.environ)
    outcomes = []
    rnd = random.Random(1234)
    points = ["staged", "journal", "rename1", "rename2", "committed"] + [None] * 8
    for k, point in enumerate(points):
        d = tmp_path / f"run{k}"
        d.mkdir()
        main = _copy_pair(src, d)
        if point is not None:
            env["MODELFILE_FAULT"] = point
            proc = subprocess.run(_freeze_cmd(main, item), env=env, capture_output=True)
            assert proc.returncode == -signal.SIGKILL, (point, proc.stderr)
        else:
            env.pop("MODELFILE_FAULT", None)
            proc2 = subprocess.Popen(_freeze_cmd(main, item), env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
            time.sleep(rnd.uniform(0.05, 1.2))
            proc2.send_signal(signal.SIGKILL)
            proc2.wait()
        # lint sees the leftovers; the next command on the model rolls back or cleans up
        if stage_dir_for(main).exists():
            r = runner.invoke(app, ["lint", str(main), "--select", "IO001"])
            assert r.exit_code == 1 and "IO001" in r.stdout
        recover(main)
        state = _pair(main)
        assert state in (old, new), f"mixed pair after a kill at {point or 'random'}"
        outcomes.append("new" if state == new else "old")
        assert _entries(d) == sorted(p.name for p in (main, main.with_name(
            main.name[: -len(".param")] + ".bin") if main.suffix == ".param" else main.with_suffix(".bin")))
    # the injected points land on both sides of the commit point
    assert outcomes[:5] == ["old", "old", "old", "old", "new"]
    # and the model loads and runs as a whole
    modelfile.load(main)


# -- the apps that load the model: sherpa-ncnn --------------------------------------------------

@pytest.mark.skipif(importlib.util.find_spec("sherpa_ncnn") is None, reason="sherpa-ncnn not installed")
def test_patched_encoder_is_loaded_by_sherpa_ncnn_before_it_is_written(tmp_path: Path) -> None:
    for f in (FIXTURES / "sherpa" / "lstm").iterdir():
        shutil.copyfile(f, tmp_path / f.name)
    enc = tmp_path / "encoder.ncnn.param"
    r = runner.invoke(app, ["patch", str(enc), "--add-sherpa-meta", "--in-place", "--json"])
    assert r.exit_code == 0, r.output
    checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
    assert checks["sherpa-ncnn"]["status"] == "passed" and "decoded" in checks["sherpa-ncnn"]["detail"]


@pytest.mark.skipif(importlib.util.find_spec("sherpa_ncnn") is None, reason="sherpa-ncnn not installed")
def test_sherpa_gate_check_refuses_what_sherpa_ncnn_refuses(tmp_path: Path) -> None:
    from modelfile.sherpa.verify import gate_check

    for f in (FIXTURES / "sherpa" / "lstm").iterdir():
        shutil.copyfile(f, tmp_path / f.name)
    enc = tmp_path / "encoder.ncnn.param"
    text = enc.read_text().splitlines()
    n_layers, n_blobs = text[1].split()
    # a zipformer meta (family 2) without 15=1 on an LSTM encoder: "too old version of Zipformer"
    text[1] = f"{int(n_layers) + 1} {n_blobs}"
    text.insert(2, "SherpaMetaData           sherpa_meta_data1        0 0 0=2 1=32 2=4 3=7")
    source = tmp_path / "source.ncnn.param"
    shutil.copyfile(enc, source)
    enc.write_text("\n".join(text) + "\n")
    m = modelfile.load(enc)
    m.path = source  # the meta is the edit: the source has none
    status, detail = gate_check(m, enc, enc)  # type: ignore[misc]
    assert status == "failed" and "sherpa-ncnn refused encoder.ncnn.param" in detail
    # a source that has the same meta and fails the same way: the edit is not to blame
    m.path = enc
    status, detail = gate_check(m, enc, enc)  # type: ignore[misc]
    assert status == "skipped" and detail.startswith("the source encoder fails in sherpa-ncnn too")
    assert gate_check(modelfile.load(FIXTURES / "ncnn" / "convlstm.ncnn.param"), enc, enc) is None
