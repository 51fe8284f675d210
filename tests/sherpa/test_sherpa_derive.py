"""SherpaMetaData from the graph: derive with no dimension flags, refuse contradictions, lint/--fix, verify.

Every fixture dir under fixtures/sherpa/ was exported by tools/make_fixtures_sherpa.py from the
flags in its meta.json; the encoders carry no meta layer. Deriving must give exactly the line
those flags produce.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import modelfile
from conftest import FIXTURES, needs_sherpa
from modelfile.cli import app
from modelfile.lint import lint_file
from modelfile.sherpa.derive import derive, detect_family
from modelfile.sherpa.layers import find_meta_layers
from modelfile.sherpa.schema import SherpaMeta
from modelfile.sherpa.verify import find_companions, verify_sherpa

runner = CliRunner()
SHERPA = FIXTURES / "sherpa"
CONFIGS = sorted(p.name for p in SHERPA.iterdir() if (p / "meta.json").is_file())
DECODABLE = [c for c in CONFIGS if (SHERPA / c / "encoder.ncnn.bin").is_file()]
#: conv-emformer values read from icefall-style slices (memory, chunk, right context)
EMFORMER_CONTEXT = ("memory-size", "chunk-length", "right-context-length")


def _meta(config: str) -> dict:
    return json.loads((SHERPA / config / "meta.json").read_text())


def _copy(config: str, tmp: Path) -> Path:
    shutil.copytree(SHERPA / config, tmp / config)
    return tmp / config


def _context_flags(config: str) -> list[str]:
    """Flags a no-dimension patch still needs: none (every fixture is read completely)."""
    return []


def _patch(*args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, ["patch", *args])
    return r.exit_code, r.stdout, r.stderr


def _line3(p: Path) -> str:
    return " ".join(p.read_text().splitlines()[2].split())


def test_fixture_set_has_two_configurations_per_family() -> None:
    fams = [_meta(c)["family"] for c in CONFIGS]
    assert all(fams.count(f) >= 2 for f in ("lstm", "conv-emformer", "zipformer")), CONFIGS


@pytest.mark.parametrize("config", CONFIGS)
def test_derive_matches_export_flags(config: str) -> None:
    m = _meta(config)
    g = modelfile.load(SHERPA / config / "encoder.ncnn.param").graph
    d = derive(g)
    assert d.family == m["family"]
    derivable = m["flags"]
    assert {k: d.values.get(k) for k in derivable} == derivable
    assert not d.undetermined
    for flag in derivable:  # every derived value names the layer and line it was read from
        assert " at layer " in d.where(flag) and "(line " in d.where(flag), (flag, d.where(flag))


@pytest.mark.parametrize("config", CONFIGS)
def test_patch_without_dimension_flags_writes_the_export_line(config: str, tmp_path: Path) -> None:
    enc = _copy(config, tmp_path) / "encoder.ncnn.param"
    code, out, err = _patch(str(enc), "--add-sherpa-meta", *_context_flags(config), "--in-place")
    assert code == 0, err
    assert _line3(enc) == _meta(config)["sherpa_meta_data"]
    assert enc.read_text().splitlines()[1].split() == [str(n) for n in _meta(config)["encoder_param_header_with_meta"]]
    assert "from the graph" in out


def test_conv_emformer_asks_only_for_what_the_graph_does_not_show(tmp_path: Path) -> None:
    """Without icefall's conv-cache cut ``x[-R-(K-1):-R]`` (the cache runs to the end) the right context,
    and the memory size that is read with it, are asked for; the rest still comes from the graph."""
    enc = _copy("conv-emformer", tmp_path) / "encoder.ncnn.param"
    text = enc.read_text()
    assert text.count("-23310=1,-2 -23311=1,1") == 2
    enc.write_text(text.replace("-23310=1,-2 -23311=1,1", "-23310=1,-233 -23311=1,1"))
    before = enc.read_bytes()
    code, _o, err = _patch(str(enc), "--add-sherpa-meta", "--in-place")
    assert code == 2
    first = err.splitlines()[0]
    assert "pass --memory-size --right-context-length;" in first and "conv-emformer" in first
    assert enc.read_bytes() == before
    code, _o, err = _patch(str(enc), "--add-sherpa-meta", "--memory-size", "3", "--right-context-length", "8",
                           "--in-place")
    assert code == 0, err
    assert _line3(enc) == _meta("conv-emformer")["sherpa_meta_data"]


@pytest.mark.parametrize("config", [c for c in CONFIGS if _meta(c)["family"] == "zipformer"])
def test_strip_derive_identical(config: str, tmp_path: Path) -> None:
    """The exported line inserted by hand, stripped again, derived: the same line (incl. icefall's bilingual)."""
    d = _copy(config, tmp_path)
    enc = d / "encoder.ncnn.param"
    lines = enc.read_text().splitlines(True)
    n, b = map(int, lines[1].split())
    lines[1] = f"{n + 1} {b}\n"
    lines.insert(2, _meta(config)["sherpa_meta_data"] + "\n")
    enc.write_text("".join(lines))
    m = modelfile.load(enc)
    exact, _near = find_meta_layers(m.graph)
    m.graph.remove(exact[0])
    der = derive(m.graph)
    assert SherpaMeta.build(der.family, der.values).line() == _meta(config)["sherpa_meta_data"].split(" 0 0 ", 1)[1]


def test_bilingual_equivalent_has_icefalls_numbers() -> None:
    if "zipformer-bilingual" not in CONFIGS:
        pytest.skip("fixture not generated")
    assert _meta("zipformer-bilingual")["sherpa_meta_data"].endswith(
        "0=2 1=32 2=4 3=7 15=1 -23316=5,2,4,3,2,4 -23317=5,384,384,384,384,384 -23318=5,192,192,192,192,192 "
        "-23319=5,1,2,4,8,2 -23320=5,31,31,31,31,31")


def test_the_sad_case_is_refused_with_flag_value_and_place(tmp_path: Path) -> None:
    """The issue's new-user mistake: the default-looking arrays on an encoder with other counts."""
    enc = _copy("zipformer-b", tmp_path) / "encoder.ncnn.param"
    before = enc.read_bytes()
    code, _o, err = _patch(str(enc), "--add-sherpa-meta", "--model-type", "zipformer", "--num-encoder-layers",
                           "2,2,2,2,2", "--in-place")
    assert code == 2
    first = err.splitlines()[0]
    # file:line:col of the layer that shows the value, the flag as typed, the graph's value, the layer
    assert first.startswith(f"{enc}:") and "--num-encoder-layers 2,2,2,2,2" in first and "3,2,2,2,2" in first
    assert " at layer " in first and "(line " in first and "-23316" not in first
    assert enc.read_bytes() == before
    code, _o, err = _patch(str(enc), "--add-sherpa-meta", "--num-encoder-layers", "2,2,2,2,2", "--force",
                           "--in-place")
    assert code == 0, err
    assert "-23316=5,2,2,2,2,2" in _line3(enc)


@pytest.mark.parametrize("flag, value, found", [
    ("--encoder-dims", "16,24,24,24,32", "16,24,24,24,16"),
    ("--attention-dims", "8,12,12,8,12", "8,12,12,8,8"),
    ("--cnn-module-kernels", "31,31,31,31,31", "3,5,7,5,3"),
    ("--num-left-chunks", "4", "2"),
    ("--zipformer-downsampling-factors", "1,2,4,4,2", "1,2,4,8,2"),
])
def test_every_zipformer_value_is_checked(flag: str, value: str, found: str, tmp_path: Path) -> None:
    enc = _copy("zipformer-b", tmp_path) / "encoder.ncnn.param"
    code, _o, err = _patch(str(enc), "--add-sherpa-meta", flag, value, "-n")
    assert code == 2 and f"{flag} {value} contradicts" in err and f"it has {found}" in err


def test_decode_chunk_len_anchors_the_factors(tmp_path: Path) -> None:
    """The graph fixes the factors only up to a common multiple (8 and 4 frames per chunk); a given chunk
    length picks it: 32 = 2 x 8 frames x first factor 2, so the factors are 2,4 (same states, same graph)."""
    enc = _copy("zipformer", tmp_path) / "encoder.ncnn.param"
    code, out, err = _patch(str(enc), "--add-sherpa-meta", "--decode-chunk-len", "32", "-n", "--json")
    assert code == 0, err
    after = json.loads(out)["changes"][0]["after"]
    assert " 1=32 2=2 " in after and "-23319=2,2,4" in after
    code, _o, err = _patch(str(enc), "--add-sherpa-meta", "--decode-chunk-len", "20", "-n")
    assert code == 2 and "--decode-chunk-len 20 contradicts" in err and "multiple of 16" in err


@pytest.mark.parametrize("config, flag, value", [
    ("lstm-b", "--num-encoder-layers", "12"),
    ("lstm-b", "--rnn-hidden-size", "1024"),
    ("lstm-b", "--encoder-dim", "512"),
    ("conv-emformer-b", "--encoder-dim", "512"),
    ("conv-emformer-b", "--cnn-module-kernel", "31"),
    ("conv-emformer-b", "--left-context-length", "32"),
    ("conv-emformer-b", "--memory-size", "32"),
    ("conv-emformer-b", "--chunk-length", "32"),
    ("conv-emformer-b", "--right-context-length", "8"),
])
def test_lstm_and_emformer_values_are_checked(config: str, flag: str, value: str, tmp_path: Path) -> None:
    enc = _copy(config, tmp_path) / "encoder.ncnn.param"
    code, _o, err = _patch(str(enc), "--add-sherpa-meta", flag, value, *_context_flags(config), "-n")
    assert code == 2 and f"{flag} {value} contradicts the encoder graph" in err and "(line " in err


def test_export_command_defaults_are_checked_too(tmp_path: Path) -> None:
    enc = _copy("zipformer-b", tmp_path) / "encoder.ncnn.param"
    cmd = "./pruned_transducer_stateless7_streaming/export-for-ncnn.py --epoch 99 --avg 1"  # all icefall defaults
    code, _o, err = _patch(str(enc), "--add-sherpa-meta", "--from-export-command", cmd, "-n")
    assert code == 2 and "--decode-chunk-len 32 contradicts" not in err  # that default is right here
    assert "--num-left-chunks 4 contradicts the encoder graph" in err and "(and 4 more: --num-encoder-layers" in err
    flags = _meta("zipformer-b")["flags"]
    cmd += " " + " ".join(f"--{k} {','.join(map(str, v)) if isinstance(v, list) else v}" for k, v in flags.items())
    code, _o, err = _patch(str(enc), "--add-sherpa-meta", "--from-export-command", cmd, "--in-place")
    assert code == 0, err
    assert _line3(enc) == _meta("zipformer-b")["sherpa_meta_data"]


def test_wrong_model_type_is_refused(tmp_path: Path) -> None:
    enc = _copy("conv-emformer", tmp_path) / "encoder.ncnn.param"
    code, _o, err = _patch(str(enc), "--add-sherpa-meta", "--model-type", "zipformer", "-n")
    assert code == 2


def test_family_detection() -> None:
    for c in CONFIGS:
        fam, why = detect_family(modelfile.load(SHERPA / c / "encoder.ncnn.param").graph)
        assert fam == _meta(c)["family"], why
    fam, why = detect_family(modelfile.load(FIXTURES / "sherpa" / "lstm" / "decoder.ncnn.param").graph)
    assert fam is None and "inputs" in why


# -- lint ------------------------------------------------------------------------

def _patched_with(tmp: Path, config: str, old: str, new: str) -> Path:
    enc = _copy(config, tmp) / "encoder.ncnn.param"
    assert _patch(str(enc), "--add-sherpa-meta", *_context_flags(config), "--in-place")[0] == 0
    text = enc.read_text()
    assert old in text
    enc.write_text(text.replace(old, new, 1))
    return enc


def test_lint_reports_contradicted_values_at_the_key(tmp_path: Path) -> None:
    enc = _patched_with(tmp_path, "zipformer-b", "-23318=5,8,12,12,8,8", "-23318=5,8,12,12,8,12")
    diags = [d for d in lint_file(enc) if d.code == "SHERPA013"]
    assert len(diags) == 1
    d = diags[0]
    line = enc.read_text().splitlines()[2]
    assert d.line == 3 and line[d.column - 1:].startswith("-23318=")
    assert "--attention-dims 8,12,12,8,12" in d.message and "8,12,12,8,8" in d.hint and "line" in d.hint


def test_lint_fix_rewrites_with_the_graphs_values(tmp_path: Path) -> None:
    enc = _patched_with(tmp_path, "lstm-b", "0=3 1=3 2=20 3=32", "0=3 1=12 2=20 3=1024")
    r = runner.invoke(app, ["lint", str(enc)])
    assert r.exit_code == 1 and r.stdout.count("SHERPA013") == 2
    r = runner.invoke(app, ["lint", str(enc), "--fix"])
    assert r.exit_code == 0, r.stdout
    assert _line3(enc) == _meta("lstm-b")["sherpa_meta_data"]


def test_lint_emformer_left_context_is_compared_after_subsampling(tmp_path: Path) -> None:
    enc = _patched_with(tmp_path, "conv-emformer", " 4=6 ", " 4=8 ")
    diags = [d for d in lint_file(enc) if d.code == "SHERPA013"]
    assert len(diags) == 1 and "--left-context-length 32" in diags[0].message and "has 24" in diags[0].hint


def test_lint_is_quiet_on_correct_meta(tmp_path: Path) -> None:
    for config in CONFIGS:
        enc = _copy(config, tmp_path) / "encoder.ncnn.param"
        assert _patch(str(enc), "--add-sherpa-meta", *_context_flags(config), "--in-place")[0] == 0
        assert not [d for d in lint_file(enc) if d.code == "SHERPA013"]


# -- info ------------------------------------------------------------------------

def test_info_shows_derived_next_to_declared(tmp_path: Path) -> None:
    enc = _patched_with(tmp_path, "zipformer", "-23317=2,16,24", "-23317=2,16,32")
    r = runner.invoke(app, ["info", str(enc), "--json"])
    meta = json.loads(r.stdout)["sherpa_meta"]
    assert meta["fields"]["encoder-dims"] == [16, 32] and meta["derived"]["encoder-dims"] == [16, 24]
    assert meta["mismatch"] == ["encoder-dims"]
    r = runner.invoke(app, ["info", str(enc)])
    assert "declared" in r.stdout and "graph" in r.stdout


def test_info_without_meta_shows_what_patch_would_write(tmp_path: Path) -> None:
    enc = _copy("lstm-b", tmp_path) / "encoder.ncnn.param"
    meta = json.loads(runner.invoke(app, ["info", str(enc), "--json"]).stdout)["sherpa_meta"]
    assert meta["layer"] is None and meta["derived"] == _meta("lstm-b")["flags"]


# -- near-miss scan ----------------------------------------------------------------

def test_near_miss_scan_finds_typos_only(tmp_path: Path) -> None:
    layers = ["Input in0 0 1 in0", "SherapMetaData sherpa_meta_data1 0 0 0=3", "Noop sherpa_meta_data2 0 0",
              "SherpaMetaData sherpa_meta_data1 0 0 0=3", "Softmax sherpa_meta_data_x 1 1 in0 a",
              "sherpametadata m 0 0"]
    layers += [f"ReLU relu_{i} 1 1 {'a' if i == 0 else f'r{i - 1}'} r{i}" for i in range(20000)]
    p = tmp_path / "big.param"
    p.write_text(f"7767517\n{len(layers)} {20003}\n" + "\n".join(layers) + "\n")
    g = modelfile.load(p).graph
    t = time.perf_counter()
    exact, near = find_meta_layers(g)
    elapsed = time.perf_counter() - t
    assert [n.name for n in exact] == ["sherpa_meta_data1"]
    assert sorted(n.op_type + " " + n.name for n in near) == [
        "Noop sherpa_meta_data2", "SherapMetaData sherpa_meta_data1", "sherpametadata m"]
    assert elapsed < 2.0  # generous bound (shared CI); measured ~10 ms for 20k layers, difflib-per-layer ~1 s


# -- sherpa-ncnn -------------------------------------------------------------------

def test_companions_by_icefall_names(tmp_path: Path) -> None:
    for n in ("encoder_jit_trace-pnnx.ncnn.param", "decoder_jit_trace-pnnx.ncnn.param",
              "joiner_jit_trace-pnnx.ncnn.int8.param", "joiner_jit_trace-pnnx.ncnn.int8.bin", "tokens.txt"):
        (tmp_path / n).write_text("x")
    found = find_companions(tmp_path / "encoder_jit_trace-pnnx.ncnn.int8.param")
    assert found["decoder_param"] == tmp_path / "decoder_jit_trace-pnnx.ncnn.param"  # decoders are never int8
    assert found["joiner_param"] == tmp_path / "joiner_jit_trace-pnnx.ncnn.int8.param"
    assert found["joiner_bin"] == tmp_path / "joiner_jit_trace-pnnx.ncnn.int8.bin" and found["decoder_bin"] is None
    assert found["tokens"] == tmp_path / "tokens.txt"


@needs_sherpa
@pytest.mark.parametrize("config", DECODABLE)
def test_sherpa_ncnn_decodes_with_the_derived_meta(config: str, tmp_path: Path) -> None:
    d = _copy(config, tmp_path)
    enc = d / "encoder.ncnn.param"
    ok, msg = verify_sherpa(enc)
    assert not ok and "refused" in msg  # no meta: sherpa-ncnn cannot create the model
    assert _patch(str(enc), "--add-sherpa-meta", *_context_flags(config), "--in-place")[0] == 0
    ok, msg = verify_sherpa(enc)
    assert ok and "decoded" in msg, msg


@needs_sherpa
def test_verify_reports_sherpas_own_refusals(tmp_path: Path) -> None:
    d = _copy("zipformer", tmp_path)
    enc = d / "encoder.ncnn.param"
    assert _patch(str(enc), "--add-sherpa-meta", "--in-place")[0] == 0
    enc.write_text(enc.read_text().replace(" 15=1 ", " 15=0 "))
    ok, msg = verify_sherpa(enc)
    assert not ok and "too old version of Zipformer" in msg
    # a copy elsewhere, companions looked up in the model dir; and construction only without them
    other = tmp_path / "staging"
    other.mkdir()
    enc.write_text(enc.read_text().replace(" 15=0 ", " 15=1 "))
    shutil.copy(enc, other / "encoder.ncnn.param")
    ok, msg = verify_sherpa(other / "encoder.ncnn.param", d / "encoder.ncnn.bin", model_dir=d)
    assert ok and "decoded" in msg, msg
    ok, msg = verify_sherpa(other / "encoder.ncnn.param", d / "encoder.ncnn.bin")
    assert ok and "construction only" in msg, msg
    ok, msg = verify_sherpa(other / "encoder.ncnn.param")
    assert ok and msg.startswith("skipped: no weights"), msg


# -- pnnx module paths in layer names ----------------------------------------------

def _with_stack0_name(tmp: Path, name: str) -> Path:
    """zipformer-b with its first stack-0 conv-module layer renamed to an icefall module path."""
    d = _copy("zipformer-b", tmp)
    enc = d / "encoder.ncnn.param"
    lines = enc.read_text().splitlines(True)
    i = next(i for i, ln in enumerate(lines) if ln.startswith("ConvolutionDepthWise1D") and " 1=3 " in ln
             and " 3=1 " in ln)
    old = lines[i].split()[1]
    lines[i] = lines[i].replace(old, name, 1)
    enc.write_text("".join(lines))
    return enc


def test_module_path_names_settle_the_first_factor(tmp_path: Path) -> None:
    enc = _with_stack0_name(tmp_path, "encoder.encoders.0.layers.0.conv_module1.depthwise_conv")
    d = derive(modelfile.load(enc).graph)
    assert d.values["zipformer-downsampling-factors"] == [1, 2, 4, 8, 2] and d.values["decode-chunk-len"] == 32
    assert "decode-chunk-len" not in d.assumed and "encoders.0.layers.0" in d.where("decode-chunk-len")


def test_downsampled_first_stack_asks_for_the_chunk_length(tmp_path: Path) -> None:
    enc = _with_stack0_name(tmp_path, "encoder.encoders.0.encoder.layers.0.conv_module1.depthwise_conv")
    code, _o, err = _patch(str(enc), "--add-sherpa-meta", "-n")
    first = err.splitlines()[0]
    assert code == 2 and "--decode-chunk-len --zipformer-downsampling-factors" in first and "downsampled" in first
    code, out, err = _patch(str(enc), "--add-sherpa-meta", "--decode-chunk-len", "64", "-n", "--json")
    assert code == 0, err  # 64 = 2 x 16 frames x first factor 2
    assert "-23319=5,2,4,8,16,4" in json.loads(out)["changes"][0]["after"]


def test_layer_counts_from_module_paths() -> None:
    from modelfile.graph import Graph, Node
    from modelfile.sherpa.derive import _zipformer_paths

    g = Graph()
    for name in ("encoder.encoders.0.layers.0.norm", "encoder.encoders.0.layers.1.norm",
                 "encoder.encoders.1.encoder.layers.0.self_attn.in_proj", "encoder.encoders.1.downsample",
                 "encoder.encoders.1.encoder.layers.2.feed_forward1", "encoder.encoders.1.encoder.state_select_list.3",
                 "decoder.embedding", "encoders.2.layersx.1.y"):
        g.append(Node("Gemm", name))
    paths = _zipformer_paths(g)
    assert sorted(paths) == [0, 1]
    assert paths[0].layers == {0, 1} and not paths[0].downsampled
    assert paths[1].layers == {0, 2, 3} and paths[1].downsampled
