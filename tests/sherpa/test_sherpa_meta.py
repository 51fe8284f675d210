"""`modelfile patch --add-sherpa-meta`, checked with sherpa-ncnn and ncnn themselves."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

import modelfile
from conftest import FIXTURES, needs_ncnn, needs_sherpa
from modelfile.cli import app
from modelfile.errors import ModelfileError
from modelfile.passes.sherpa_meta import SherpaMeta, add_sherpa_meta, parse_export_command

runner = CliRunner()
FAMILIES = ["lstm", "conv-emformer", "zipformer"]
ICEFALL_ZIPFORMER = ("0=2 1=32 2=4 3=7 15=1 -23316=5,2,4,3,2,4 -23317=5,384,384,384,384,384 "
                     "-23318=5,192,192,192,192,192 -23319=5,1,2,4,8,2 -23320=5,31,31,31,31,31")


def _meta(family: str) -> dict:
    return json.loads((FIXTURES / "sherpa" / family / "meta.json").read_text())


def _copy_family(family: str, dst: Path) -> Path:
    shutil.copytree(FIXTURES / "sherpa" / family, dst / family)
    return dst / family


def _flags(family: str) -> list[str]:
    out = []
    for k, v in _meta(family)["flags"].items():
        out += [f"--{k}", ",".join(map(str, v)) if isinstance(v, list) else str(v)]
    return out


def _patch(args: list[str]) -> tuple[int, str, str]:
    r = runner.invoke(app, ["patch", *args])
    return r.exit_code, r.stdout, r.stderr


SHERPA_CHILD = textwrap.dedent("""
    import json, sys
    import numpy as np
    import sherpa_ncnn
    d = sys.argv[1]
    rec = sherpa_ncnn.Recognizer(
        tokens=d + "/tokens.txt",
        encoder_param=d + "/encoder.ncnn.param", encoder_bin=d + "/encoder.ncnn.bin",
        decoder_param=d + "/decoder.ncnn.param", decoder_bin=d + "/decoder.ncnn.bin",
        joiner_param=d + "/joiner.ncnn.param", joiner_bin=d + "/joiner.ncnn.bin",
        num_threads=1)
    t = np.arange(32000) / 16000.0
    samples = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.random.default_rng(0).standard_normal(t.size)).astype(np.float32)
    rec.accept_waveform(16000, samples)
    rec.input_finished()
    print(json.dumps({"text": rec.text, "tokens": list(rec.tokens)}))
""")


def _run_sherpa(model_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", SHERPA_CHILD, str(model_dir)], capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("family", FAMILIES)
def test_patch_is_a_two_line_diff(family: str, tmp_path: Path) -> None:
    d = _copy_family(family, tmp_path)
    enc = d / "encoder.ncnn.param"
    before = enc.read_text().splitlines()
    bin_before = (d / "encoder.ncnn.bin").read_bytes()
    code, out, err = _patch([str(enc), "--add-sherpa-meta", "--model-type", family, *_flags(family), "--in-place"])
    assert code == 0, err
    after = enc.read_text().splitlines()
    assert len(after) == len(before) + 1
    n_layers, n_blobs = map(int, before[1].split())
    assert after[1] == f"{n_layers + 1} {n_blobs}"
    assert after[0] == before[0] and after[3:] == before[2:]
    expected = _meta(family)["sherpa_meta_data"].split()
    assert after[2].split() == expected
    # the new line has the file's own pnnx columns: type and name padded to 24
    assert after[2].startswith("SherpaMetaData           sherpa_meta_data1        0 0 ")
    assert (d / "encoder.ncnn.bin").read_bytes() == bin_before


@needs_sherpa
@pytest.mark.parametrize("family", FAMILIES)
def test_sherpa_ncnn_accepts_and_decodes_after_patch(family: str, tmp_path: Path) -> None:
    d = _copy_family(family, tmp_path)
    unpatched = _run_sherpa(d)
    assert unpatched.returncode != 0  # sherpa-ncnn cannot use an encoder without metadata
    code, _out, err = _patch([str(d / "encoder.ncnn.param"), "--add-sherpa-meta", "--model-type", family,
                              *_flags(family), "--in-place"])
    assert code == 0, err
    r = _run_sherpa(d)
    assert r.returncode == 0, r.stderr[-2000:]
    result = json.loads(r.stdout.strip().splitlines()[-1])
    assert isinstance(result["text"], str) and len(result["tokens"]) > 0


NCNN_META_CHILD = textwrap.dedent("""
    import json, sys
    import numpy as np
    import ncnn
    seen = {}
    keep = []
    class Meta(ncnn.Layer):
        def __init__(self):
            super().__init__()
            self.one_blob_only = False
        def load_param(self, pd):
            for k in range(32):
                t = pd.type(k)
                if t == 2:
                    seen[k] = ["int", pd.get(k, 0)]
                elif t == 3:
                    seen[k] = ["float", pd.get(k, 0.0)]
                elif t == 5:
                    seen[k] = ["int_array", np.array(pd.get(k, ncnn.Mat())).view(np.int32).tolist()]
                elif t == 6:
                    seen[k] = ["float_array", np.array(pd.get(k, ncnn.Mat())).tolist()]
                elif t != 0:
                    seen[k] = ["type%d" % t, None]
            return 0
    class Passthrough(ncnn.Layer):
        def __init__(self):
            super().__init__()
            self.one_blob_only = False
    def meta_creator():
        layer = Meta(); keep.append(layer); return layer
    def other_creator():
        layer = Passthrough(); keep.append(layer); return layer
    net = ncnn.Net()
    net.register_custom_layer("SherpaMetaData", meta_creator, lambda l: None)
    for t in ("PoolingModuleNoProj", "TensorAsStrided", "SimpleUpsample", "Stack"):
        net.register_custom_layer(t, other_creator, lambda l: None)
    rc = net.load_param(sys.argv[1])
    print(json.dumps({"rc": rc, "params": seen}))
""")


@needs_ncnn
@pytest.mark.parametrize("family", FAMILIES)
def test_ncnn_reads_every_value_with_its_type(family: str, tmp_path: Path) -> None:
    d = _copy_family(family, tmp_path)
    enc = d / "encoder.ncnn.param"
    code, _o, err = _patch([str(enc), "--add-sherpa-meta", "--model-type", family, *_flags(family), "--in-place"])
    assert code == 0, err
    r = subprocess.run([sys.executable, "-c", NCNN_META_CHILD, str(enc)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-1500:]
    res = json.loads(r.stdout.strip().splitlines()[-1])
    assert res["rc"] == 0
    got = {int(k): tuple(v) for k, v in res["params"].items()}
    meta = SherpaMeta.build(family, _meta(family)["flags"])
    want = {k: (("int_array", v) if isinstance(v, list) else ("int", v)) for k, v in meta.params().items()}
    assert got == want


def test_icefall_zipformer_example_line(tmp_path: Path) -> None:
    n = 1 + 7 * 5
    lines = [f"Input                    in{i:<22} 0 1 in{i}" for i in range(n)]
    lines += [f"ReLU                     relu_{i:<20} 1 1 in{i} out{i}" for i in range(n)]
    p = tmp_path / "encoder_jit_trace-pnnx.ncnn.param"
    p.write_text(f"7767517\n{len(lines)} {2 * n}\n" + "\n".join(lines) + "\n")
    code, _o, err = _patch([str(p), "--add-sherpa-meta", "--model-type", "zipformer", "--decode-chunk-len", "32",
                            "--num-left-chunks", "4", "--num-encoder-layers", "2,4,3,2,4",
                            "--encoder-dims", "384,384,384,384,384", "--attention-dims", "192,192,192,192,192",
                            "--zipformer-downsampling-factors", "1,2,4,8,2", "--cnn-module-kernels", "31,31,31,31,31",
                            "--in-place"])
    assert code == 0, err
    line = p.read_text().splitlines()[2]
    assert line.split(None, 4)[4] == ICEFALL_ZIPFORMER
    assert p.read_text().splitlines()[1] == f"{len(lines) + 1} {2 * n}"
    # the same from a pasted export command, defaults filled in from icefall
    cmd = ("./pruned_transducer_stateless7_streaming/export-for-ncnn.py --tokens data/lang_bpe_500/tokens.txt "
           "--exp-dir $dir/exp --use-averaged-model 0 --epoch 99 --avg 1 --decode-chunk-len 32 --num-left-chunks 4 \\\n"
           '  --num-encoder-layers "2,4,3,2,4" --feedforward-dims "1024,1024,2048,2048,1024" --nhead "8,8,8,8,8"')
    assert parse_export_command(cmd).line() == ICEFALL_ZIPFORMER


def test_export_command_families_and_defaults() -> None:
    lstm = parse_export_command("./lstm_transducer_stateless2/export-for-ncnn.py --exp-dir x --num-encoder-layers 12")
    assert lstm.line() == "0=3 1=12 2=512 3=1024"
    emf = parse_export_command(
        "./conv_emformer_transducer_stateless2/export-for-ncnn.py --num-encoder-layers 12 --chunk-length 32 "
        "--cnn-module-kernel 31 --left-context-length 32 --right-context-length 8 --memory-size 32 --encoder-dim 512")
    assert emf.line() == "0=1 1=12 2=32 3=31 4=8 5=32 6=8 7=512"  # the icefall doc's line
    with pytest.raises(ModelfileError, match="model type"):
        parse_export_command("python export.py --epoch 3")


def test_left_context_must_divide_by_4() -> None:
    with pytest.raises(ModelfileError, match="not divisible by 4"):
        SherpaMeta.build("conv-emformer", {"num-encoder-layers": 2, "memory-size": 3, "cnn-module-kernel": 5,
                                           "left-context-length": 30, "chunk-length": 16,
                                           "right-context-length": 8, "encoder-dim": 12}).params()


def test_idempotent_and_replace(tmp_path: Path) -> None:
    d = _copy_family("lstm", tmp_path)
    enc = d / "encoder.ncnn.param"
    args = [str(enc), "--add-sherpa-meta", "--model-type", "lstm", *_flags("lstm"), "--in-place"]
    assert _patch(args)[0] == 0
    once = enc.read_bytes()
    code, out, _e = _patch(args)
    assert code == 0 and "nothing to do" in out
    assert enc.read_bytes() == once
    other = [str(enc), "--add-sherpa-meta", "--model-type", "lstm", "--num-encoder-layers", "2", "--encoder-dim",
             "16", "--rnn-hidden-size", "24", "--in-place"]
    other[other.index("--rnn-hidden-size") + 1] = "32"
    code, _o, err = _patch(other)
    assert code == 2 and "already exists" in err and "--replace" in err
    assert enc.read_bytes() == once
    code, _o, err = _patch([*other, "--replace", "--force"])
    assert code == 0, err
    lines = enc.read_text().splitlines()
    assert lines[2].endswith("0=3 1=2 2=16 3=32")
    assert lines[1] == once.decode().splitlines()[1]  # replaced, not added: count unchanged
    assert sum("SherpaMetaData" in ln for ln in lines) == 1


def test_near_miss_is_reported(tmp_path: Path) -> None:
    d = _copy_family("lstm", tmp_path)
    enc = d / "encoder.ncnn.param"
    text = enc.read_text().splitlines(True)
    n, b = map(int, text[1].split())
    text[1] = f"{n + 1} {b}\n"
    text.insert(2, "SherapMetaData sherpa_meta_data1 0 0 0=3 1=2 2=16 3=24\n")
    enc.write_text("".join(text))
    code, _o, err = _patch([str(enc), "--add-sherpa-meta", "--model-type", "lstm", *_flags("lstm"), "--in-place"])
    assert code == 2 and "SherapMetaData" in err and "misspelled" in err
    code, _o, err = _patch([str(enc), "--add-sherpa-meta", "--model-type", "lstm", *_flags("lstm"), "--in-place",
                            "--replace"])
    assert code == 0, err
    lines = enc.read_text().splitlines()
    assert lines[1] == f"{n + 1} {b}" and "SherapMetaData" not in enc.read_text()


def test_values_that_cannot_fit_are_refused(tmp_path: Path) -> None:
    d = _copy_family("zipformer", tmp_path)
    enc = d / "encoder.ncnn.param"
    before = enc.read_bytes()
    flags = _flags("zipformer")
    i = flags.index("--num-encoder-layers")
    flags[i + 1] = flags[i + 1] + ",2"  # one stack too many: 1+7N inputs no longer match
    code, _o, err = _patch([str(enc), "--add-sherpa-meta", "--model-type", "zipformer", *flags, "--in-place"])
    assert code == 2 and ("1+7N" in err or "same length" in err)
    assert enc.read_bytes() == before
    code, _o, err = _patch([str(enc), "--add-sherpa-meta", "--model-type", "lstm", *_flags("lstm"), "--in-place"])
    assert code == 2 and "4 inputs" in err
    code, _o, err = _patch([str(enc), "--add-sherpa-meta", "--model-type", "lstm", *_flags("lstm"), "--in-place",
                            "--force"])
    assert code == 0


def test_wrong_family_flag_and_missing_values(tmp_path: Path) -> None:
    enc = _copy_family("lstm", tmp_path) / "encoder.ncnn.param"
    code, _o, err = _patch([str(enc), "--add-sherpa-meta", "--model-type", "lstm", "--memory-size", "3", "-n"])
    assert code == 2 and "not a lstm option" in err
    # values the graph shows are derived now (tests/test_sherpa_derive.py); what it cannot show is asked for:
    # here a graph of bare state inputs, which shows only the layer count
    n = 1 + 4 * 2
    lines = [f"Input in{i} 0 1 in{i}" for i in range(n)] + [f"ReLU r{i} 1 1 in{i} out{i}" for i in range(n)]
    emf = tmp_path / "encoder.ncnn.param"
    emf.write_text(f"7767517\n{len(lines)} {2 * n}\n" + "\n".join(lines) + "\n")
    code, _o, err = _patch([str(emf), "--add-sherpa-meta", "--model-type", "conv-emformer", "--encoder-dim", "12",
                            "-n"])
    assert code == 2 and "pass --memory-size --cnn-module-kernel --left-context-length --chunk-length" in err
    assert "--num-encoder-layers" not in err.splitlines()[0] and "--encoder-dim" not in err.splitlines()[0]


def test_dry_run_and_json(tmp_path: Path) -> None:
    enc = _copy_family("lstm", tmp_path) / "encoder.ncnn.param"
    before = enc.read_bytes()
    r = runner.invoke(app, ["patch", str(enc), "--add-sherpa-meta", "--model-type", "lstm", *_flags("lstm"),
                            "--dry-run", "--json"])
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert data["modified"] and data["changes"][0]["kind"] == "add-layer" and data["written"] == []
    assert enc.read_bytes() == before


def test_in_place_failure_leaves_original(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    enc = _copy_family("lstm", tmp_path) / "encoder.ncnn.param"
    before = enc.read_bytes()

    def boom(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", boom)  # fails after the temp file was written, before the rename
    code, _o, err = _patch([str(enc), "--add-sherpa-meta", "--model-type", "lstm", *_flags("lstm"), "--in-place"])
    assert code == 2 and "No space left" in err
    assert enc.read_bytes() == before
    assert not [p for p in enc.parent.iterdir() if p.name.startswith(".")]  # temp file cleaned up


def test_in_place_unwritable_directory(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions")
    enc = _copy_family("lstm", tmp_path) / "encoder.ncnn.param"
    before = enc.read_bytes()
    enc.parent.chmod(0o500)
    try:
        code, _o, _e = _patch([str(enc), "--add-sherpa-meta", "--model-type", "lstm", *_flags("lstm"), "--in-place"])
    finally:
        enc.parent.chmod(0o700)
    assert code == 2 and enc.read_bytes() == before


def test_info_shows_decoded_metadata(tmp_path: Path) -> None:
    enc = _copy_family("conv-emformer", tmp_path) / "encoder.ncnn.param"
    assert _patch([str(enc), "--add-sherpa-meta", "--model-type", "conv-emformer", *_flags("conv-emformer"),
                   "--in-place"])[0] == 0
    r = runner.invoke(app, ["info", str(enc), "--json"])
    meta = json.loads(r.stdout)["sherpa_meta"]
    assert meta["family"] == "conv-emformer"
    assert meta["fields"]["num-encoder-layers"] == 2
    assert meta["fields"]["left-context-length (after subsampling)"] == 6
    r = runner.invoke(app, ["info", str(enc)])
    assert "SherpaMetaData (conv-emformer)" in r.stdout


def test_python_api_report(tmp_path: Path) -> None:
    enc = _copy_family("lstm", tmp_path) / "encoder.ncnn.param"
    m = modelfile.load(enc)
    rep = add_sherpa_meta(m.graph, SherpaMeta.build("lstm", _meta("lstm")["flags"]))
    assert rep.modified and rep.changes[0].after == "0=3 1=2 2=16 3=24"
    again = add_sherpa_meta(m.graph, SherpaMeta.build("lstm", _meta("lstm")["flags"]))
    assert not again.modified
