"""One minimal bad file per lint rule: it fires exactly that rule at the right line and column,
and its fixed form is clean. Plus the registry/docs contract and rule variants."""

from __future__ import annotations

import re
from dataclasses import dataclass
import shutil
from pathlib import Path

import pytest

from modelfile.errors import Severity
from modelfile.lint import RULES, fix_file, lint_file
from modelfile.lint.fix import FIXABLE

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_project_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lint as if no pyproject.toml configured anything (the cwd's would apply otherwise)."""
    monkeypatch.chdir(tmp_path)


@dataclass
class Case:
    bad: str
    #: (line, text on that line the finding must point at; "" = column 1, "$" = end of line + 1)
    at: tuple[int, str]
    fixed: str
    name: str = "model.param"
    bin_bad: bytes | None = None
    bin_fixed: bytes | None = None
    #: which occurrence of the text on the line (0 = first)
    nth: int = 0


def ncnn(*lines: str, counts: str | None = None) -> str:
    """A .param with the given layer lines and (by default) correct counts."""
    if counts is None:
        blobs: list[str] = []
        for ln in lines:
            t = ln.split()
            nb, nt = int(t[2]), int(t[3])
            for b in t[4:4 + nb]:
                if b not in blobs:
                    blobs.append(b)
            blobs.extend(t[4 + nb:4 + nb + nt])
        counts = f"{len(lines)} {len(blobs)}"
    return "7767517\n" + counts + "\n" + "".join(ln + "\n" for ln in lines)


IN = "Input in0 0 1 in0"
RELU = "ReLU relu 1 1 in0 out"


def lstm_encoder(meta: str | None = "0=3 1=2 2=8 3=16", n_in: int = 4, extra: tuple[str, ...] = (),
                 meta_line: str | None = None) -> str:
    lines = []
    if meta_line is not None:
        lines.append(meta_line)
    elif meta is not None:
        lines.append(f"SherpaMetaData sherpa_meta_data1 0 0 {meta}")
    lines += [f"Input in{i} 0 1 in{i}" for i in range(n_in)]
    lines += [f"ReLU r{i} 1 1 in{i} out{i}" for i in range(n_in)]
    lines += list(extra)
    return ncnn(*lines)


ZIP1 = "-23316=1,2 -23317=1,384 -23318=1,192 -23319=1,1 -23320=1,31"


def zip_encoder(meta: str, n: int = 1) -> str:
    k = 1 + 7 * n
    return ncnn(f"SherpaMetaData sherpa_meta_data1 0 0 {meta}", *[f"Input in{i} 0 1 in{i}" for i in range(k)],
                *[f"ReLU r{i} 1 1 in{i} out{i}" for i in range(k)])


def zip_shown(meta: str) -> str:
    """A one-stack zipformer encoder whose weightless layers show 16 frames per chunk (cached_len + 16)
    and a 64-frame, 192-wide key cache: 4 left chunks, attention dim 192."""
    return ncnn(f"SherpaMetaData sherpa_meta_data1 0 0 {meta}", *[f"Input in{i} 0 1 in{i}" for i in range(8)],
                "BinaryOp len0 1 1 in1 out1 0=0 1=1 2=16.0", "Reshape key0 1 1 in3 out3 0=192 1=64",
                *[f"ReLU r{i} 1 1 in{i} out{i}" for i in (0, 2, 4, 5, 6, 7)])


def ir(layers: str, edges: str, version: str = "11") -> str:
    return (f'<?xml version="1.0"?>\n<net name="m" version="{version}">\n<layers>\n{layers}</layers>\n'
            f"<edges>\n{edges}</edges>\n</net>\n")


P_X = ('<layer id="0" name="x" type="Parameter" version="opset1">\n<data shape="1,3" element_type="f32"/>\n'
       '<output><port id="0" precision="FP32" names="x"><dim>1</dim><dim>3</dim></port></output>\n</layer>\n')


def relu(version: str = "opset1", names: str = "y", extra_in: str = "") -> str:
    return (f'<layer id="1" name="relu" type="ReLU" version="{version}">\n'
            f'<input><port id="0"><dim>1</dim><dim>3</dim></port>{extra_in}</input>\n'
            f'<output><port id="1" precision="FP32" names="{names}"><dim>1</dim><dim>3</dim></port></output>\n'
            "</layer>\n")


RESULT = ('<layer id="2" name="out" type="Result" version="opset1">\n'
          '<input><port id="0"><dim>1</dim><dim>3</dim></port></input>\n</layer>\n')
E01 = '<edge from-layer="0" from-port="0" to-layer="1" to-port="0"/>\n'
E12 = '<edge from-layer="1" from-port="1" to-layer="2" to-port="0"/>\n'
GOOD_IR = ir(P_X + relu() + RESULT, E01 + E12)
DEAD = ('<layer id="3" name="dead" type="ReLU" version="opset1">\n<input><port id="0"/></input>\n'
        '<output><port id="1" precision="FP32"/></output>\n</layer>\n')


def const(size: int = 12) -> str:
    return ('<layer id="3" name="w" type="Const" version="opset1">\n'
            f'<data element_type="f32" shape="3" offset="0" size="{size}"/>\n'
            '<output><port id="0" precision="FP32"><dim>3</dim></port></output>\n</layer>\n'
            '<layer id="4" name="add" type="Add" version="opset1">\n'
            '<input><port id="0"/><port id="1"/></input>\n<output><port id="2" precision="FP32"/></output>\n'
            '</layer>\n')


CONST_EDGES = ('<edge from-layer="0" from-port="0" to-layer="4" to-port="0"/>\n'
               '<edge from-layer="3" from-port="0" to-layer="4" to-port="1"/>\n'
               '<edge from-layer="4" from-port="2" to-layer="2" to-port="0"/>\n')


RELU_IN2 = '<port id="2"><dim>1</dim><dim>3</dim></port>'
E11 = '<edge from-layer="1" from-port="1" to-layer="1" to-port="2"/>\n'
OUT1 = '<port id="1" precision="FP32"><dim>1</dim><dim>3</dim></port>'
#: a Const of 4 added to a [1,3] input: the shapes cannot broadcast (only OpenVINO's shape inference says so)
CONST4 = const(16).replace('shape="3"', 'shape="4"').replace("<dim>3</dim>", "<dim>4</dim>")


def stateful(read_id: str) -> str:
    layers = (P_X + f'<layer id="3" name="rv" type="ReadValue" version="opset6">\n'
              f'<data variable_id="{read_id}" variable_type="f32" variable_shape="1,3"/>\n'
              '<output><port id="0" precision="FP32"/></output>\n</layer>\n'
              '<layer id="4" name="add" type="Add" version="opset1">\n'
              '<input><port id="0"/><port id="1"/></input>\n<output><port id="2" precision="FP32"/></output>\n'
              '</layer>\n'
              '<layer id="5" name="as" type="Assign" version="opset6">\n<data variable_id="v"/>\n'
              '<input><port id="0"/></input>\n</layer>\n' + RESULT)
    edges = ('<edge from-layer="0" from-port="0" to-layer="4" to-port="0"/>\n'
             '<edge from-layer="3" from-port="0" to-layer="4" to-port="1"/>\n'
             '<edge from-layer="4" from-port="2" to-layer="5" to-port="0"/>\n'
             '<edge from-layer="4" from-port="2" to-layer="2" to-port="0"/>\n')
    return ir(layers, edges)


PNNX = ("7767517\n3 2\npnnx.Input               pnnx_input_0             0 1 0 #0=(1,3,64,64)f32\n"
        "nn.ReLU                  relu                     1 1 0 1 #1=(1,3,64,64)f32\n"
        "pnnx.Output              pnnx_output_0            1 0 1\n")

CASES: dict[str, Case] = {
    # -- ncnn ----------------------------------------------------------------------
    "NCNN000": Case("7767518\n1 1\nInput in0 0 1 in0\n", (1, ""), ncnn(IN)),
    "NCNN001": Case(ncnn(IN, RELU, counts="3 2"), (2, "3"), ncnn(IN, RELU)),
    "NCNN002": Case(ncnn(IN, RELU, counts="1 1"), (2, "1"), ncnn(IN, RELU)),
    "NCNN003": Case(ncnn(IN, RELU, counts="2 1"), (2, "1"), ncnn(IN, RELU)),
    "NCNN004": Case(ncnn(IN, RELU, counts="2 5"), (2, "5"), ncnn(IN, RELU)),
    "NCNN005": Case(ncnn(IN, RELU) + "  # edited by hand\n", (5, "#"), ncnn(IN, RELU)),
    "NCNN006": Case(PNNX, (3, ""), ncnn(IN, RELU)),
    "NCNN007": Case(ncnn(IN, "ReLU relu 1 1 in0 a", "ReLU relu 1 1 a b"), (5, "relu"),
                    ncnn(IN, "ReLU relu 1 1 in0 a", "ReLU relu2 1 1 a b")),
    "NCNN008": Case(ncnn(IN, "ReLU r1 1 1 in0 a", "ReLU r2 1 1 a a"), (5, "a"),
                    ncnn(IN, "ReLU r1 1 1 in0 a", "ReLU r2 1 1 a b"), nth=1),
    "NCNN009": Case(ncnn(IN, "BinaryOp add 2 1 in0 in1 out"), (4, "in1"),
                    ncnn(IN, "Input in1 0 1 in1", "BinaryOp add 2 1 in0 in1 out")),
    "NCNN010": Case(ncnn(IN, "ReLU r1 1 1 in0 a", "ReLU r2 1 1 in0 b"), (5, "in0"),
                    ncnn(IN, "Split sp 1 2 in0 x0 x1", "ReLU r1 1 1 x0 a", "ReLU r2 1 1 x1 b")),
    "NCNN011": Case(ncnn(IN, "Split sp 1 2 in0 x0 x1", "ReLU r1 1 1 x0 a"), (4, "x1"),
                    ncnn(IN, "Split sp 1 1 in0 x0", "ReLU r1 1 1 x0 a")),
    "NCNN012": Case(ncnn(IN, "YoloV5Focus focus 1 1 in0 out"), (4, ""), ncnn(IN, "Reorg focus 1 1 in0 out 0=2")),
    "NCNN013": Case(ncnn(IN, "aten::exp e 1 1 in0 out"), (4, ""), ncnn(IN, "Exp e 1 1 in0 out")),
    "NCNN014": Case(ncnn(IN, RELU + " 32=1"), (4, "32=1"), ncnn(IN, RELU)),
    "NCNN015": Case(ncnn(IN, RELU + " 31=1.0"), (4, "31=1.0"), ncnn(IN, RELU + " 31=1")),
    "NCNN016": Case(ncnn(IN, "Slice sl 1 2 in0 a b -23300=3,1,-233"), (4, "-23300"),
                    ncnn(IN, "Slice sl 1 2 in0 a b -23300=2,1,-233")),
    "NCNN017": Case(ncnn(IN, RELU + " 0=1"), (4, "0=1"), ncnn(IN, RELU + " 0=1.0")),
    "NCNN018": Case(ncnn(IN, "Clip clip 1 1 in0 out 0=0.0 1=inf"), (4, "inf"),
                    ncnn(IN, "Clip clip 1 1 in0 out 0=0.0 1=6.0")),
    "NCNN019": Case(ncnn(IN, RELU + " 0=0.1 0=0.2"), (4, "0=0.2"), ncnn(IN, RELU + " 0=0.2")),
    "NCNN020": Case(ncnn(IN, "Softmax sm 1 1 in0 out 0=1"), (4, "0=1"), ncnn(IN, "Softmax sm 1 1 in0 out 0=1 1=1")),
    "NCNN021": Case(ncnn(IN, "Permute p 1 1 in0 out 0=-1"), (4, "0=-1"), ncnn(IN, "Permute p 1 1 in0 out 0=1")),
    "NCNN022": Case(ncnn(IN, "Input in1 0 1 in1", "ReLU relu 2 1 in0 in1 out"), (5, ""),
                    ncnn(IN, "Input in1 0 1 in1", "ReLU relu 1 1 in0 out")),
    # -- sherpa ----------------------------------------------------------------------
    "SHERPA001": Case(lstm_encoder(None), (3, ""), lstm_encoder(), name="encoder.ncnn.param"),
    "SHERPA002": Case(lstm_encoder(meta_line="SherpaMetadata sherpa_meta_data1 0 0 0=3 1=2 2=8 3=16"), (3, ""),
                      lstm_encoder()),
    "SHERPA003": Case(lstm_encoder(extra=("SherpaMetaData sherpa_meta_data1 0 0 0=3 1=2 2=8 3=16",)), (12, ""),
                      lstm_encoder()),
    "SHERPA004": Case(lstm_encoder("0=4 1=2 2=8 3=16"), (3, "0=4"), lstm_encoder()),
    "SHERPA005": Case(lstm_encoder("0=3 1=2 2=8"), (3, "$"), lstm_encoder()),
    "SHERPA006": Case(zip_encoder(f"0=2 1=32 2=4 3=7 {ZIP1}"), (3, "$"), zip_encoder(f"0=2 1=32 2=4 3=7 15=1 {ZIP1}")),
    "SHERPA007": Case(lstm_encoder("0=3 1=2.0 2=8 3=16"), (3, "1=2.0"), lstm_encoder()),
    "SHERPA008": Case(zip_encoder("0=2 1=32 2=4 3=7 15=1 -23316=2,2,2 -23317=2,384,384 -23318=1,192 "
                                  "-23319=2,1,2 -23320=2,31,31", n=2), (3, "-23318"),
                      zip_encoder("0=2 1=32 2=4 3=7 15=1 -23316=2,2,2 -23317=2,384,384 -23318=2,192,192 "
                                  "-23319=2,1,2 -23320=2,31,31", n=2)),
    "SHERPA009": Case(lstm_encoder(n_in=5), (3, "0=3"), lstm_encoder()),
    "SHERPA010": Case(zip_encoder(f"0=2 1=33 2=4 3=7 15=1 {ZIP1}"), (3, "1=33"),
                      zip_encoder(f"0=2 1=32 2=4 3=7 15=1 {ZIP1}")),
    "SHERPA011": Case(lstm_encoder("0=3 1=2 2=8 3=0"), (3, "3=0"), lstm_encoder()),
    "SHERPA013": Case(zip_shown("0=2 1=32 2=2 3=7 15=1 " + ZIP1), (3, "2=2"), zip_shown("0=2 1=32 2=4 3=7 15=1 " + ZIP1)),
    "SHERPA012": Case(lstm_encoder(extra=("Clip clip 1 1 out0 y 0=0.0 1=6.0",)), (12, ""),
                      lstm_encoder(extra=("ReLU clip 1 1 out0 y",))),
    # -- OpenVINO IR -------------------------------------------------------------------
    "IR000": Case(GOOD_IR.replace("</layers>", "</layer>"), (15, "$"), GOOD_IR, name="m.xml"),
    "IR001": Case(ir(P_X + relu() + RESULT, E01 + E12 + E12.replace('to-layer="2"', 'to-layer="7"')),
                  (19, "to-layer"), GOOD_IR, name="m.xml"),
    "IR002": Case(ir(P_X + relu() + RESULT, E01.replace('from-port="0"', 'from-port="5"') + E12),
                  (17, "from-port"), GOOD_IR, name="m.xml"),
    "IR003": Case(ir(P_X + relu() + RESULT + DEAD, E01 + E12 + E01.replace('to-layer="1"', 'to-layer="3"')),
                  (15, "<layer"), GOOD_IR, name="m.xml"),
    "IR004": Case(ir(P_X + relu(names="x") + RESULT, E01 + E12), (10, "names"), GOOD_IR, name="m.xml"),
    "IR005": Case(stateful("w"), (16, "<layer"), stateful("v"), name="m.xml"),
    "IR006": Case(ir(P_X + RESULT + const(), CONST_EDGES), (12, "offset"), ir(P_X + RESULT + const(), CONST_EDGES),
                  name="m.xml", bin_bad=bytes(8), bin_fixed=bytes(12)),
    "IR007": Case(ir(P_X + relu("opset99") + RESULT, E01 + E12), (8, "version"), GOOD_IR, name="m.xml"),
    "IR101": Case(ir(P_X + RESULT + const(), CONST_EDGES), (12, "offset"), ir(P_X + RESULT + const(), CONST_EDGES),
                  name="m.xml", bin_bad=bytes(20), bin_fixed=bytes(12)),
    "IR008": Case(ir(P_X + RESULT + const(), CONST_EDGES), (11, "<layer"), ir(P_X + RESULT + const(), CONST_EDGES),
                  name="m.xml", bin_fixed=bytes(12)),
    "IR009": Case(ir(P_X + relu(extra_in='<port id="2"/>') + RESULT, E01 + E12), (9, '<port id="2"'), GOOD_IR,
                  name="m.xml"),
    "IR010": Case(ir(P_X + relu() + RESULT + P_X.replace('name="x"', 'name="x2"').replace('names="x"', 'names="x2"'),
                     E01 + E12), (15, "id="), GOOD_IR, name="m.xml"),
    "IR011": Case(ir(P_X + relu() + RESULT, E01 + E12, version="9"), (2, "version"), GOOD_IR, name="m.xml"),
    "IR012": Case(ir(P_X + relu() + RESULT, E01 + E01 + E12), (18, "to-port"), GOOD_IR, name="m.xml"),
    "IR013": Case(ir(P_X.replace('names="x"', 'names="relu"') + relu() + RESULT, E01 + E12, version="10"),
                  (8, ""), ir(P_X + relu() + RESULT, E01 + E12, version="10"), name="m.xml"),
    "IR014": Case(ir(P_X.replace("<dim>3</dim>", "<dim>-2</dim>") + relu() + RESULT, E01 + E12), (6, "<dim>-2"),
                  GOOD_IR, name="m.xml"),
    "IR015": Case(ir(P_X.replace('element_type="f32"', 'element_type="f99"') + relu() + RESULT, E01 + E12),
                  (5, "element_type"), GOOD_IR, name="m.xml"),
    "IR016": Case(ir(P_X + relu().replace(' version="opset1"', "") + RESULT, E01 + E12), (8, "<layer"), GOOD_IR,
                  name="m.xml"),
    "IR017": Case(ir(P_X + relu(extra_in=RELU_IN2) + RESULT, E01 + E12 + E11), (19, "to-layer"),
                  ir(P_X + relu() + RESULT, E01 + E12), name="m.xml"),
    "IR018": Case(ir(P_X + relu().replace('type="ReLU"', 'type="TensorIterator"') + RESULT, E01 + E12), (8, "<layer"),
                  GOOD_IR, name="m.xml"),
    "IR019": Case(ir(P_X + relu().replace("</port></output>", "</port>" + OUT1 + "</output>") + RESULT, E01 + E12),
                  (10, 'id="1" precision'), GOOD_IR, name="m.xml", nth=1),
    "IR020": Case(ir(P_X + RESULT + CONST4, CONST_EDGES), (2, "<net"), ir(P_X + RESULT + const(), CONST_EDGES),
                  name="m.xml", bin_bad=bytes(16), bin_fixed=bytes(12)),
    "IR021": Case('<?xml version="1.0"?>\n<net name="m" version="11">\n</net>\n', (2, "<net"), GOOD_IR, name="m.xml"),
    # -- files -----------------------------------------------------------------------
    # weights (.bin next to the param): PReLU reads 4 raw floats, InnerProduct a tagged 2x2 weight
    "NCNN101": Case(ncnn(IN, "PReLU p 1 1 in0 out 0=4"), (4, ""), ncnn(IN, "PReLU p 1 1 in0 out 0=4"),
                    bin_bad=bytes(8), bin_fixed=bytes(16)),
    "NCNN102": Case(ncnn(IN, "PReLU p 1 1 in0 out 0=4"), (4, ""), ncnn(IN, "PReLU p 1 1 in0 out 0=4"),
                    bin_bad=bytes(20), bin_fixed=bytes(16)),
    "NCNN103": Case(ncnn(IN, "InnerProduct fc 1 1 in0 out 0=2 1=0 2=4"), (4, ""),
                    ncnn(IN, "InnerProduct fc 1 1 in0 out 0=2 1=0 2=4"),
                    bin_bad=bytes.fromhex("efbeadde") + bytes(16), bin_fixed=bytes(20)),
    "IO000": Case("", (0, ""), ncnn(IN)),  # the bad form is a missing file, see _write
    "IO001": Case(ncnn(IN), (0, ""), ncnn(IN)),  # the bad form has an interrupted save's staging folder
}


def _write(tmp_path: Path, case: Case, text: str, bin_data: bytes | None, *, missing: bool = False) -> Path:
    p = tmp_path / case.name
    for old in tmp_path.iterdir():
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    if not missing:
        p.write_text(text, encoding="utf-8")
    if case is CASES.get("IO001") and text is case.bad and bin_data is case.bin_bad:
        (tmp_path / f".{case.name}.modelfile" / "new").mkdir(parents=True)
    if bin_data is not None:
        p.with_suffix(".bin").write_bytes(bin_data)
    return p


def _expected_column(case: Case, text: str) -> int:
    line_no, needle = case.at
    if line_no == 0:
        return 0
    line = text.split("\n")[line_no - 1]
    if needle == "":
        return 1
    if needle == "$":
        return len(line.rstrip()) + 1
    idx = -1
    for _ in range(case.nth + 1):
        idx = line.index(needle, idx + 1)
    return idx + 1


#: rules only ``lint --fix`` reports (tested in test_fix_gate.py)
FIX_ONLY = frozenset({"IO002"})


def test_every_rule_has_a_case() -> None:
    assert sorted(RULES) == sorted(set(CASES) | FIX_ONLY)


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_fires_exactly_once_at_position(code: str, tmp_path: Path) -> None:
    case = CASES[code]
    p = _write(tmp_path, case, case.bad, case.bin_bad, missing=code == "IO000")
    found = lint_file(p)
    assert [d.code for d in found] == [code], "\n".join(f"{d.one_line()} {d.code}" for d in found)
    d = found[0]
    assert d.severity == RULES[code].severity
    assert d.line == case.at[0], d.one_line()
    assert d.column == _expected_column(case, case.bad), d.one_line()
    assert d.message and d.hint and d.file == str(p)
    assert d.extra.get("rule") == RULES[code].name


@pytest.mark.parametrize("code", sorted(CASES))
def test_fixed_form_is_clean(code: str, tmp_path: Path) -> None:
    case = CASES[code]
    p = _write(tmp_path, case, case.fixed, case.bin_fixed)
    found = lint_file(p)
    assert found == [], "\n".join(f"{d.one_line()} {d.code}" for d in found)


@pytest.mark.parametrize("code", sorted(FIXABLE))
def test_fix_repairs_counts(code: str, tmp_path: Path) -> None:
    case = CASES[code]
    p = _write(tmp_path, case, case.bad, None)
    changes = fix_file(p)
    assert changes and all("count" in c or "the graph's value" in c for c in changes)
    assert p.read_text() == case.fixed
    assert lint_file(p) == []
    assert fix_file(p) == []  # idempotent
    assert sorted(x.name for x in tmp_path.iterdir()) == [case.name]  # no temp files left


def test_fixable_flags_match_fix_module() -> None:
    assert {c for c, r in RULES.items() if r.fixable} == set(FIXABLE)


def test_every_rule_is_documented() -> None:
    readme = (ROOT / "modelfile" / "lint" / "README.md").read_text(encoding="utf-8")
    for code, r in RULES.items():
        row = next((ln for ln in readme.splitlines() if ln.startswith(f"| {code} ")), None)
        assert row is not None, f"{code} has no row in modelfile/lint/README.md"
        assert f"`{r.name}`" in row and f"| {r.severity.value} |" in row and r.summary in row, row


def test_codes_are_stable_shape() -> None:
    for code, r in RULES.items():
        assert re.fullmatch(r"(NCNN|SHERPA|IR|IO)\d{3}", code)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", r.name)
        assert r.summary and r.hint and isinstance(r.severity, Severity)


# -- variants of rules, beyond the one minimal case ----------------------------------------

VARIANTS: list[tuple[str, str, str, int, str]] = [
    # (code, layer line after an Input in0, text the finding points at (+ offset), words in the message)
    ("NCNN017", "Concat cat 1 1 in0 out 0=1.0", "0=1.0", 0, "1065353216"),
    ("NCNN017", "Slice sl 1 2 in0 a b 0=2", "0=2", 0, "array"),
    ("NCNN017", "Eltwise el 1 1 in0 out 0=1 1=1,2.5", "1=1,2.5", 0, "first element"),
    ("NCNN017", "Reshape rs 1 1 in0 out 6=5", "6=5", 0, "quote"),
    ("NCNN018", "Clip clip 1 1 in0 out 0=-inf 1=6.0", "-inf", 0, "cannot be parsed"),
    ("NCNN018", "ReLU relu 1 1 in0 out 0=0.00000000000001", "0.00000000000001", 0, "15"),
    ("NCNN018", "ReLU relu 1 1 in0 out 0=0.1234567891", "0.1234567891", 0, "fraction digits"),
    ("NCNN018", "Concat cat 1 1 in0 out 0=1x", "1x", 0, "leading digits"),
    ("NCNN018", "Concat cat 1 1 in0 out 0=", "0=", 2, "empty"),
    ("NCNN018", "Concat cat 1 1 in0 out 0=1\t1=2", "\t", 0, "tab"),
    ("NCNN018", "Slice sl 1 2 in0 a b -23300=2,1,,", ",,", 1, "empty array element"),
    ("NCNN018", "Concat cat 1 1 in0 out 0=99999999999", "99999999999", 0, "32-bit"),
    ("NCNN014", "ReLU relu 1 1 in0 out -5=1", "-5=1", 0, "negative"),
    ("NCNN014", "ReLU relu 1 1 in0 out -23340=1,1", "-23340", 0, "out of range"),
    ("NCNN015", "ReLU relu 1 1 in0 out -23330=3,1,2,3", "-23330", 0, "4 or 5"),
    ("NCNN015", "ReLU relu 1 1 in0 out 30=1", "30=1", 0, "int array"),
    ("NCNN020", "Reduction red 1 1 in0 out 0=0 -23303=1,1", "-23303", 0, "5=1"),
    ("NCNN008", "Split sp 1 2 in0 a a", "a a", 2, "already produced"),
    ("NCNN012", "ArgMax am 1 1 in0 out", "ArgMax", 0, "default"),
    ("NCNN013", "pnnx.Expression ex 1 1 in0 out 0=add(@0,1)", "pnnx", 0, "unconverted"),
]


@pytest.mark.parametrize("code,line,needle,offset,words", VARIANTS)
def test_rule_variants(code: str, line: str, needle: str, offset: int, words: str, tmp_path: Path) -> None:
    text = ncnn(IN, line)
    p = tmp_path / "model.param"
    p.write_text(text)
    found = [d for d in lint_file(p) if d.code == code]
    assert len(found) == 1, [f"{d.code} {d.message}" for d in lint_file(p)]
    d = found[0]
    assert d.line == 4
    assert d.column == line.index(needle) + 1 + offset, (d.column, d.message)
    assert words in d.message, d.message


def test_forward_reference_is_explained(tmp_path: Path) -> None:
    p = tmp_path / "model.param"
    p.write_text(ncnn(IN, "ReLU r2 1 1 a b", "ReLU r1 1 1 in0 a"))
    found = [d for d in lint_file(p) if d.code == "NCNN009"]
    assert len(found) == 1 and "produces it later" in found[0].message and found[0].line == 4


def test_trailing_layers_and_garbage_both_reported(tmp_path: Path) -> None:
    p = tmp_path / "model.param"
    p.write_text(ncnn(IN, RELU, counts="1 1") + "garbage here\n")
    assert [d.code for d in lint_file(p)] == ["NCNN002", "NCNN005"]


def test_sherpa_rules_only_for_encoders(tmp_path: Path) -> None:
    text = lstm_encoder(None)
    for name, expect in (("model.param", []), ("encoder.ncnn.param", ["SHERPA001"]),
                         ("encoder_jit_trace-pnnx.ncnn.int8.param", ["SHERPA001"])):
        p = tmp_path / name
        p.write_text(text)
        assert [d.code for d in lint_file(p)] == expect, name
    p = tmp_path / "model.param"
    assert [d.code for d in lint_file(p, sherpa=True)] == ["SHERPA001"]
    p2 = tmp_path / "encoder.ncnn.param"
    assert lint_file(p2, sherpa=False) == []


def test_sherpa_custom_ops_known_only_in_sherpa_files(tmp_path: Path) -> None:
    p = tmp_path / "model.param"
    p.write_text(ncnn(IN, "SimpleUpsample up 1 1 in0 out"))
    assert [d.code for d in lint_file(p)] == ["SHERPA001"]  # a zipformer op makes it a sherpa encoder
    assert [d.code for d in lint_file(p, sherpa=False)] == ["NCNN012"]


def test_sherpa_meta_array_prefix_is_one_finding(tmp_path: Path) -> None:
    p = tmp_path / "m.param"
    p.write_text(zip_encoder(f"0=2 1=32 2=4 3=7 15=1 {ZIP1.replace('-23316=1,2', '-23316=2,2')}"))
    assert [d.code for d in lint_file(p)] == ["NCNN016"]


def test_binary_param_is_linted(tmp_path: Path) -> None:
    from modelfile.formats.ncnn import binparam
    from modelfile.formats.ncnn.reader import read_text

    graph, _doc = read_text(ncnn(IN, "ReLU r1 1 1 in0 a", "ReLU r2 1 1 in0 b"), "x.param")
    p = tmp_path / "model.param.bin"
    p.write_bytes(binparam.to_bytes(graph))
    found = lint_file(p)
    assert [d.code for d in found] == ["NCNN010"] and found[0].line == 0


def test_lfs_pointer_is_unreadable(tmp_path: Path) -> None:
    for name, code in (("encoder.ncnn.param", "NCNN000"), ("m.xml", "IR000")):
        p = tmp_path / name
        p.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12\n")
        found = lint_file(p)
        assert [d.code for d in found] == [code] and "git-lfs" in found[0].message


def test_ir_doctype_refused(tmp_path: Path) -> None:
    p = tmp_path / "m.xml"
    p.write_text('<?xml version="1.0"?>\n<!DOCTYPE net [<!ENTITY x "y">]>\n' + GOOD_IR.split("\n", 1)[1])
    found = lint_file(p)
    assert [d.code for d in found] == ["IR000"] and "DOCTYPE" in found[0].message


def test_ir_const_size_too_small(tmp_path: Path) -> None:
    p = tmp_path / "m.xml"
    p.write_text(ir(P_X + RESULT + const(size=8), CONST_EDGES))
    p.with_suffix(".bin").write_bytes(bytes(12))
    found = lint_file(p)
    assert [d.code for d in found] == ["IR006"] and "too small" in found[0].message


def test_ir_body_is_its_own_graph(tmp_path: Path) -> None:
    body = ir(P_X + relu() + RESULT, E01).replace('<?xml version="1.0"?>\n', "")
    body = body.replace('<net name="m" version="11">', "<body>").replace("</net>", "</body>")
    outer = ('<layer id="5" name="loop" type="TensorIterator" version="opset1">\n'
             '<input><port id="0"/></input>\n<output><port id="1" precision="FP32" names="z"/></output>\n'
             + body + "</layer>\n")
    text = ir(P_X + outer + RESULT, '<edge from-layer="0" from-port="0" to-layer="5" to-port="0"/>\n'
              '<edge from-layer="5" from-port="1" to-layer="2" to-port="0"/>\n')
    p = tmp_path / "m.xml"
    p.write_text(text)
    found = lint_file(p)
    # inside the body, the Result's input port has no edge and relu feeds nothing
    assert sorted(d.code for d in found) == ["IR003", "IR009"], [d.one_line() for d in found]


def test_ir_newer_opset_message(tmp_path: Path) -> None:
    p = tmp_path / "m.xml"
    p.write_text(ir(P_X + relu("opset18") + RESULT, E01 + E12))
    found = lint_file(p)
    assert [d.code for d in found] == ["IR007"] and "newer" in found[0].message
    p.write_text(ir(P_X + relu("extension") + RESULT, E01 + E12))
    assert lint_file(p) == []
