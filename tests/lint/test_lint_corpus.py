"""Every corpus and fixture file lints without crashing; the findings on them are the known, real ones;
``--fix`` gives files the real ncnn runtime loads whole; a fuzzed file never crashes the linter."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, corpus_files, needs_ncnn, needs_sherpa
from modelfile.lint import UNREADABLE_CODES, LintConfig, fix_file, lint_file, lint_paths
from modelfile.errors import ModelfileError
from modelfile.lint.fix import fix_text

NO_CONFIG = LintConfig()  # findings must not depend on a pyproject.toml found above the files

# Findings on the shared corpus, checked by hand (see the lint note): file name -> codes.
# Each is real:
#  * nanodet_m declares 179 layers but has 180 lines; ncnn never reads the last (Noop Output) layer.
#  * custom_layer.param uses 'CustomLayer', which loads only after register_custom_layer (a test model).
#  * custom_op.xml uses version="custom_opset": needs the extension that provides it.
#  * the IR files whose .bin the corpus could not store need one (their Consts have size > 0).
EXPECTED_CORPUS: dict[str, set[str]] = {
    "Tencent__ncnn__benchmark__models__nanodet_m.param": {"NCNN002"},
    "Tencent__ncnn__python__tests__custom_layer.param": {"NCNN012"},
    "openvinotoolkit__openvino__src__tests__functional__inference_engine__ir_serialization__models__custom_op.xml":
        {"IR007"},
    **{f"openvinotoolkit__openvino__{name}.xml": {"IR008"} for name in (
        "inference-engine__tests__functional__inference_engine__ir_serialization__models__ti_negative_stride",
        "ngraph__test__models__ir__if_diff_case",
        "src__core__tests__models__ir__add_abc_initializers_u1_const",
        "src__core__tests__models__ir__const_string",
        "src__core__tests__models__ir__if_body_without_parameters",
        "src__core__tests__models__ir__loop_2d_add",
        "src__core__tests__models__ir__nms5_dynamism",
        "src__tests__functional__inference_engine__ir_serialization__models__ti_resnet",
    )},
}

# Corpus files checked to be clean (prefixes shortened: ncnn: = Tencent__ncnn__, ov: = openvinotoolkit__openvino__).
# Files of a larger corpus that are in neither list are only checked for not crashing.
KNOWN_CLEAN = {n.replace("ncnn:", "Tencent__ncnn__").replace("ov:", "openvinotoolkit__openvino__") for n in """
    ncnn:benchmark__models__FastestDet.param
    ncnn:benchmark__models__alexnet.param
    ncnn:benchmark__models__blazeface.param
    ncnn:benchmark__models__efficientnet_b0.param
    ncnn:benchmark__models__efficientnetv2_b0.param
    ncnn:benchmark__models__googlenet.param
    ncnn:benchmark__models__googlenet_int8.param
    ncnn:benchmark__models__llm__hunyuan_0.5b_instruct_decoder.ncnn.param
    ncnn:benchmark__models__llm__hunyuan_0.5b_instruct_proj_out.ncnn.param
    ncnn:benchmark__models__llm__llama3.2_1b_decoder.ncnn.param
    ncnn:benchmark__models__llm__llama3.2_1b_proj_out.ncnn.param
    ncnn:benchmark__models__llm__minicpm4_0.5b_decoder.ncnn.param
    ncnn:benchmark__models__llm__minicpm4_0.5b_proj_out.ncnn.param
    ncnn:benchmark__models__llm__qwen2.5_0.5b_decoder.ncnn.param
    ncnn:benchmark__models__llm__qwen2.5_0.5b_proj_out.ncnn.param
    ncnn:benchmark__models__llm__qwen3_0.6b_decoder.ncnn.param
    ncnn:benchmark__models__llm__qwen3_0.6b_proj_out.ncnn.param
    ncnn:benchmark__models__llm__tinyllama_1.1b_decoder.ncnn.param
    ncnn:benchmark__models__llm__tinyllama_1.1b_proj_out.ncnn.param
    ncnn:benchmark__models__llm__youtu_llm_2b_decoder.ncnn.param
    ncnn:benchmark__models__mnasnet.param
    ncnn:benchmark__models__mobilenet.param
    ncnn:benchmark__models__mobilenet_int8.param
    ncnn:benchmark__models__mobilenet_ssd.param
    ncnn:benchmark__models__mobilenet_ssd_int8.param
    ncnn:benchmark__models__mobilenet_v2.param
    ncnn:benchmark__models__mobilenet_v3.param
    ncnn:benchmark__models__mobilenet_yolo.param
    ncnn:benchmark__models__mobilenetv2_yolov3.param
    ncnn:benchmark__models__proxylessnasnet.param
    ncnn:benchmark__models__regnety_400m.param
    ncnn:benchmark__models__resnet18.param
    ncnn:benchmark__models__resnet18_int8.param
    ncnn:benchmark__models__resnet50.param
    ncnn:benchmark__models__resnet50_int8.param
    ncnn:benchmark__models__shufflenet.param
    ncnn:benchmark__models__shufflenet_v2.param
    ncnn:benchmark__models__squeezenet.param
    ncnn:benchmark__models__squeezenet_int8.param
    ncnn:benchmark__models__squeezenet_ssd.param
    ncnn:benchmark__models__squeezenet_ssd_int8.param
    ncnn:benchmark__models__vgg16.param
    ncnn:benchmark__models__vgg16_int8.param
    ncnn:benchmark__models__vision_transformer.param
    ncnn:benchmark__models__yolo-fastest-1.1.param
    ncnn:benchmark__models__yolo-fastestv2.param
    ncnn:benchmark__models__yolov4-tiny.param
    ncnn:examples__squeezenet_v1.1.param
    ncnn:examples__squeezenet_v1.1.param.bin
    ncnn:python__tests__test.param
    ov:src__bindings__js__node__tests__unit__test_models__add_model_with_var.xml
    ov:src__core__tests__models__ir__conv_with_rt_info.xml
    ov:src__core__tests__models__ir__dynamic_variable.xml
    ov:src__core__tests__models__ir__string_parameter.xml
    ov:src__tests__functional__plugin__conformance__op_conformance_utils__src__meta_info__test_artifacts__operation__static__Convert-1__f16__Convert_137_0.xml
    age-gender-recognition-retail-0013-fp16-int8.xml
    face-detection-retail-0005-fp16-int8.xml
    face-detection-retail-0005-fp16.xml
    face-detection-retail-0005-fp32.xml
    person-detection-retail-0013-fp32.xml
""".split()}

# IRs stored with their .bin (Open Model Zoo, v10): lint every .xml; the .bin is read beside it
CORPUS = corpus_files("ncnn") + corpus_files("openvino") + [
    p for p in corpus_files("openvino-with-weights") if p.suffix == ".xml"]


@pytest.fixture(autouse=True)
def _no_cwd_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the repo's own pyproject.toml must not configure these runs
FIXTURE_FILES = sorted(p for p in FIXTURES.rglob("*") if p.suffix in (".param", ".xml"))


@pytest.mark.skipif(not CORPUS, reason="shared/corpus not found beside the checkout")
@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name[-60:])
def test_corpus_file_lints(path: Path) -> None:
    found = lint_file(path, config=NO_CONFIG)
    codes = {d.code for d in found}
    assert not codes & UNREADABLE_CODES, [d.one_line() for d in found]
    for d in found:
        assert d.file == str(path) and d.message and d.hint
        assert d.line >= (0 if path.name.endswith(".param.bin") else 1)
    if path.name in EXPECTED_CORPUS or path.name in KNOWN_CLEAN:
        assert codes == EXPECTED_CORPUS.get(path.name, set()), [f"{d.one_line()} {d.code}" for d in found]


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_file_lints(path: Path) -> None:
    found = lint_file(path, config=NO_CONFIG)
    codes = {d.code for d in found}
    # the sherpa fixtures are encoders deliberately committed without their metadata layer
    expected = {"SHERPA001"} if path.parent.parent.name == "sherpa" and path.name.startswith("encoder") else set()
    assert codes == expected, [f"{d.one_line()} {d.code}" for d in found]


@pytest.mark.skipif(not CORPUS, reason="shared/corpus not found beside the checkout")
def test_whole_corpus_in_one_run() -> None:
    result = lint_paths([CORPUS[0].parent.parent], isolated=True)
    assert result.exit_code() == 1  # nanodet's count and the custom opset are errors
    assert len(result.files) == len(CORPUS)


def _nanodet(tmp_path: Path) -> Path:
    src = next((p for p in corpus_files("ncnn") if p.name.endswith("nanodet_m.param")), None)
    if src is None:
        pytest.skip("nanodet_m.param not in the corpus")
    dst = tmp_path / "nanodet_m.param"
    shutil.copyfile(src, dst)
    return dst


def test_fix_nanodet_changes_only_the_counts(tmp_path: Path) -> None:
    p = _nanodet(tmp_path)
    before = p.read_text().split("\n")
    assert fix_file(p) == ["line 2: layer count 179 -> 180", "line 2: blob count 204 -> 205"]
    after = p.read_text().split("\n")
    assert after[1] == "180 205"
    assert [i for i, (a, b) in enumerate(zip(before, after)) if a != b] == [1] and len(before) == len(after)
    assert lint_file(p) == []


@needs_ncnn
def test_fixed_file_loads_whole_in_ncnn(tmp_path: Path) -> None:
    """The runtime confirms the finding: before --fix ncnn drops the last layer, after it reads all."""
    import ncnn

    p = _nanodet(tmp_path)
    net = ncnn.Net()
    assert net.load_param(str(p)) == 0
    assert len(net.layers()) == 179 and net.layers()[-1].name != "Output"
    fix_file(p)
    net = ncnn.Net()
    assert net.load_param(str(p)) == 0
    assert len(net.layers()) == 180 and net.layers()[-1].name == "Output" and len(net.blobs()) == 205


@needs_ncnn
def test_layer_count_high_fails_in_ncnn_and_fix_repairs(tmp_path: Path) -> None:
    import ncnn

    p = tmp_path / "m.param"
    p.write_text("7767517\n3 2\nInput in0 0 1 in0\nReLU relu 1 1 in0 out\n")
    assert [d.code for d in lint_file(p)] == ["NCNN001"]
    assert ncnn.Net().load_param(str(p)) != 0
    fix_file(p)
    assert ncnn.Net().load_param(str(p)) == 0


SHERPA_CHILD = """
import sys, sherpa_ncnn
d = sys.argv[1]
sherpa_ncnn.Recognizer(tokens=d + "/tokens.txt", encoder_param=d + "/encoder.ncnn.param",
    encoder_bin=d + "/encoder.ncnn.bin", decoder_param=d + "/decoder.ncnn.param", decoder_bin=d + "/decoder.ncnn.bin",
    joiner_param=d + "/joiner.ncnn.param", joiner_bin=d + "/joiner.ncnn.bin", num_threads=1)
print("OK")
"""


@needs_sherpa
def test_sherpa_accepts_what_lint_passes(tmp_path: Path) -> None:
    """Synthetic LSTM encoder (recipe from shared/docs/sherpa-meta.md §3): the meta line added by hand
    without bumping the count is NCNN002; after --fix it is clean and sherpa-ncnn constructs it; a
    misspelled meta type is SHERPA002 and sherpa-ncnn crashes on it."""
    layers = "".join(f"Input in{i} 0 1 in{i}\n" for i in range(4))
    meta = "SherpaMetaData sherpa_meta_data1 0 0 0=3 1=2 2=8 3=16\n"
    (tmp_path / "decoder.ncnn.param").write_text("7767517\n1 1\nInput in0 0 1 in0\n")
    (tmp_path / "joiner.ncnn.param").write_text("7767517\n2 2\nInput in0 0 1 in0\nInput in1 0 1 in1\n")
    for n in ("encoder", "decoder", "joiner"):
        (tmp_path / f"{n}.ncnn.bin").write_bytes(b"")
    (tmp_path / "tokens.txt").write_text("<blk> 0\na 1\nb 2\n")
    enc = tmp_path / "encoder.ncnn.param"

    def run() -> int:
        return subprocess.run([sys.executable, "-c", SHERPA_CHILD, str(tmp_path)], capture_output=True,
                              timeout=120).returncode

    enc.write_text("7767517\n4 4\n" + meta + layers)  # count not bumped
    codes = [d.code for d in lint_file(enc)]
    assert codes[0] == "NCNN002" and set(codes) <= {"NCNN002", "SHERPA009"}  # ncnn sees only 3 inputs
    # the save gate decodes a second of audio in sherpa-ncnn: these stand-in Inputs construct but cannot
    # decode, so --fix refuses to write them (the decoder and joiner beside it decode with the unfixed file)
    with pytest.raises(ModelfileError, match="sherpa-ncnn check failed"):
        fix_file(enc)
    assert "\n4 4\n" in enc.read_text()
    fixed, changes = fix_text(enc.read_text(), str(enc))
    assert changes == ["line 2: layer count 4 -> 5"]
    enc.write_text(fixed)
    assert lint_file(enc) == []
    assert run() == 0
    enc.write_text("7767517\n5 4\n" + meta.replace("SherpaMetaData", "SherpaMetadata") + layers)
    assert [d.code for d in lint_file(enc)] == ["SHERPA002"]
    assert run() != 0


# -- fuzzing: any mutation of a small file gives findings, never an exception ----------------

BASE = ("7767517\n5 6\nInput in0 0 1 in0 0=4 1=4 2=3\nSplit sp 1 2 in0 a b\n"
        "Convolution conv 1 1 a c 0=8 1=3 5=1 6=216 -23330=4,3,4,4,8\n"
        "BinaryOp add 2 1 c b d 0=0\nSoftmax sm 1 1 d out 0=1 1=1\n")
ALPHABET = st.sampled_from(list("0123456789 =,-.\t\nabeinfxyz\"#") + ["-23300=", "Split", "30=", "1.5e3"])


META = ("7767517\n4 3\nSherpaMetaData sherpa_meta_data1 0 0 0=2 1=32 2=4 3=7 15=1 -23316=1,2 -23317=1,384 "
        "-23318=1,192 -23319=1,1 -23320=1,31\nInput in0 0 1 in0\nInput in1 0 1 in1\nBinaryOp add 2 1 in0 in1 out\n")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=st.sampled_from([BASE, META]), data=st.data(), cut=st.integers(0, 6),
       insert=st.lists(ALPHABET, max_size=6))
def test_fuzzed_param_never_crashes(tmp_path: Path, base: str, data: st.DataObject, cut: int,
                                    insert: list[str]) -> None:
    pos = data.draw(st.integers(0, len(base)))
    text = base[:pos] + "".join(insert) + base[pos + cut:]
    p = tmp_path / "encoder.ncnn.param"  # sherpa rules too
    p.write_text(text)
    for d in lint_file(p):
        assert d.code and d.message
        assert d.line >= 0 and d.column >= 0
    fix_file(p)  # never raises either


def test_reader_failure_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    p = tmp_path / "m.param"
    p.write_text("7767517\n2 2\nInput in0 0 1 in0\nSoftmax sm 1 1-23300= out 0=1 1=1\n")  # found by the fuzzer
    found = lint_file(p)
    assert [d.code for d in found] == ["NCNN000"]
    assert fix_file(p) == []


IR_ALPHABET = st.sampled_from(['"', "<", ">", "/", " ", "=", "1", "-1", 'id="0"', 'to-port="9"', "<port/>",
                               "<layer>", "</input>", 'type="Assign"', 'type="Const"', 'size="x"', "opset9x"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), cut=st.integers(0, 12), insert=st.lists(IR_ALPHABET, max_size=4))
def test_fuzzed_ir_never_crashes(tmp_path: Path, data: st.DataObject, cut: int, insert: list[str]) -> None:
    from test_lint_rules import CONST_EDGES, P_X, RESULT, const, ir

    base = ir(P_X + RESULT + const(), CONST_EDGES)
    pos = data.draw(st.integers(0, len(base)))
    p = tmp_path / "m.xml"
    p.write_text(base[:pos] + "".join(insert) + base[pos + cut:])
    p.with_suffix(".bin").write_bytes(bytes(10))
    for d in lint_file(p):
        assert d.code.startswith("IR") and d.message
