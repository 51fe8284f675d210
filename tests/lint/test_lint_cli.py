"""``modelfile lint`` on the command line: formats, exit codes, selection, configuration, --fix, hooks."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from modelfile.cli import app
from modelfile.lint import RULES, lint_paths
from modelfile.lint.reporters import render_sarif

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "tests" / "data" / "sarif-schema-2.1.0.json"

runner = CliRunner()

CLEAN = "7767517\n2 2\nInput in0 0 1 in0\nReLU relu 1 1 in0 out\n"
# NCNN002 (error, fixable) + NCNN004 is not there: 2 layers declared 1, blobs 1 are right for the read part
NOT_BUMPED = "7767517\n1 1\nInput in0 0 1 in0\nReLU relu 1 1 in0 out\n"
# NCNN010 (warning) only
FAN_OUT = "7767517\n3 3\nInput in0 0 1 in0\nReLU r1 1 1 in0 a\nReLU r2 1 1 in0 b\n"
# NCNN011 (info) only
UNUSED = "7767517\n3 4\nInput in0 0 1 in0\nSplit sp 1 2 in0 x0 x1\nReLU r1 1 1 x0 a\n"


@pytest.fixture()
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "models"
    d.mkdir()
    (d / "clean.param").write_text(CLEAN)
    (d / "bumped.param").write_text(NOT_BUMPED)
    (d / "fan.param").write_text(FAN_OUT)
    (d / "unused.param").write_text(UNUSED)
    monkeypatch.chdir(tmp_path)  # no pyproject.toml above tmp_path is expected; keep cwd config out
    return d


def invoke(*args: str) -> object:
    return runner.invoke(app, ["lint", *args])


def test_clean_file_exits_0(models: Path) -> None:
    r = invoke(str(models / "clean.param"))
    assert r.exit_code == 0, r.output
    assert "All checks passed" in r.output


def test_text_output_has_position_caret_and_hint(models: Path) -> None:
    r = invoke(str(models / "bumped.param"))
    assert r.exit_code == 1
    lines = r.output.splitlines()
    assert lines[0].startswith(f"{models / 'bumped.param'}:2:1: error NCNN002 ")
    assert lines[0].endswith("[layer-count-low]")
    assert lines[1] == " 2 | 1 1" and lines[2] == "   | ^"
    assert lines[3].startswith("  hint: ")
    assert "Found 1 problem (1 error) in 1 file. 1 fixable with --fix." in r.output
    assert "Traceback" not in r.output


def test_fail_on_levels(models: Path) -> None:
    fan, unused = str(models / "fan.param"), str(models / "unused.param")
    assert invoke(fan).exit_code == 0  # warning < error
    assert invoke(fan, "--fail-on", "warning").exit_code == 1
    assert invoke(unused, "--fail-on", "warning").exit_code == 0  # info < warning
    assert invoke(unused, "--fail-on", "info").exit_code == 1
    assert invoke(str(models / "bumped.param"), "--fail-on", "never").exit_code == 0


def test_folder_and_glob(models: Path, tmp_path: Path) -> None:
    (models / "x.pnnx.param").write_text("not linted in folder walks")
    (models / "pom.xml").write_text("<project/>")  # not an IR: skipped in folder walks
    r = invoke(str(models), "--format", "json")
    data = json.loads(r.stdout)
    assert sorted(Path(f["path"]).name for f in data["files"]) == [
        "bumped.param", "clean.param", "fan.param", "unused.param"]
    r = invoke(str(tmp_path / "models" / "*.param"), "--format", "json")
    assert len(json.loads(r.stdout)["files"]) == 5  # a glob takes what it matches, .pnnx.param too
    r = invoke(str(tmp_path / "**" / "clean.param"), "--format", "json")
    assert [Path(f["path"]).name for f in json.loads(r.stdout)["files"]] == ["clean.param"]


def test_unreadable_input_exits_2(models: Path, tmp_path: Path) -> None:
    r = invoke(str(tmp_path / "nope.param"))
    assert r.exit_code == 2 and "IO000" in r.output
    r = invoke(str(tmp_path / "nothing-*.param"))
    assert r.exit_code == 2 and "glob matched nothing" in r.output
    bad = tmp_path / "bad.param"
    bad.write_text("7767517\n1 1\nInput in0 zero 1 in0\n")
    r = invoke(str(bad), str(models / "bumped.param"))
    assert r.exit_code == 2  # unreadable wins over findings
    assert f"{bad}:3:11: error NCNN000" in r.output
    xml = tmp_path / "bad.xml"
    xml.write_text("<net version='11'><layers></net>")
    r = invoke(str(xml))
    assert r.exit_code == 2 and "IR000" in r.output


def test_usage_errors_exit_2(models: Path) -> None:
    f = str(models / "clean.param")
    for args in (["--format", "xml", f], ["--fail-on", "sometimes", f], ["--select", "NOPE999", f],
                 ["--ignore", "bogus-name", f], ["--fix", "--diff", f], []):
        r = invoke(*args)
        assert r.exit_code == 2, (args, r.output)
        assert "Traceback" not in r.output


def test_select_and_ignore(models: Path) -> None:
    f = str(models / "bumped.param")
    assert invoke(f, "--ignore", "NCNN002").exit_code == 0
    assert invoke(f, "--ignore", "layer-count-low").exit_code == 0
    assert invoke(f, "--select", "SHERPA,IR").exit_code == 0
    assert invoke(f, "--select", "NCNN00").exit_code == 1
    assert invoke(f, "--select", "ALL", "--ignore", "NCNN").exit_code == 0
    fan = str(models / "fan.param")
    data = json.loads(invoke(fan, "--format", "json", "--select", "NCNN010").stdout)
    assert [d["code"] for d in data["diagnostics"]] == ["NCNN010"]


def test_json_format(models: Path) -> None:
    r = invoke(str(models), "--format", "json")
    assert r.exit_code == 1
    data = json.loads(r.stdout)
    assert data["summary"]["error"] == 1 and data["summary"]["warning"] == 1 and data["summary"]["info"] == 1
    assert data["summary"]["exit_code"] == 1 and data["summary"]["fixable"] == 1
    d = next(x for x in data["diagnostics"] if x["code"] == "NCNN002")
    assert d == {
        "code": "NCNN002", "name": "layer-count-low", "severity": "error", "file": str(models / "bumped.param"),
        "line": 2, "column": 1, "end_column": 2, "message": d["message"], "hint": RULES["NCNN002"].hint,
        "fixable": True,
    }


def test_github_format(models: Path) -> None:
    r = invoke(str(models), "--format", "github")
    lines = r.stdout.splitlines()
    assert len(lines) == 3
    pat = re.compile(r"^::(error|warning|notice) file=([^,]+),line=(\d+),col=(\d+)(,endColumn=\d+)?,"
                     r"title=([A-Z]+\d{3} [a-z-]+)::(.+)$")
    levels = set()
    for ln in lines:
        m = pat.match(ln)
        assert m, ln
        levels.add(m.group(1))
        assert "\n" not in m.group(7) and "%0A" in m.group(7)  # the hint is on an escaped second line
    assert levels == {"error", "warning", "notice"}
    assert f"::error file={models / 'bumped.param'},line=2,col=1,endColumn=2,title=NCNN002 layer-count-low::" in r.stdout


def test_github_escapes_properties(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    p = tmp_path / "a,b:c.param"
    p.write_text(NOT_BUMPED)
    r = invoke(str(p), "--format", "github")
    assert "file=" + str(p).replace(":", "%3A").replace(",", "%2C") + ",line=2" in r.stdout


def _validate_sarif(doc: dict) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    jsonschema.Draft4Validator(schema).validate(doc)


def test_sarif_validates_against_schema(models: Path) -> None:
    r = invoke(str(models), "--format", "sarif")
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    _validate_sarif(doc)
    run = doc["runs"][0]
    assert doc["version"] == "2.1.0"
    ids = [x["id"] for x in run["tool"]["driver"]["rules"]]
    assert sorted(ids) == sorted(RULES)
    levels = {x["ruleId"]: x["level"] for x in run["results"]}
    assert levels == {"NCNN002": "error", "NCNN010": "warning", "NCNN011": "note"}
    res = next(x for x in run["results"] if x["ruleId"] == "NCNN002")
    assert ids[res["ruleIndex"]] == "NCNN002"
    loc = res["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "models/bumped.param", "uriBaseId": "%SRCROOT%"}
    assert loc["region"] == {"startLine": 2, "startColumn": 1, "endColumn": 2}


def test_sarif_validates_for_every_rule(tmp_path: Path) -> None:
    """Every rule's minimal bad file together, unreadable ones included, gives a valid SARIF log."""
    from test_lint_rules import CASES, FIX_ONLY

    files = []
    for code, case in CASES.items():
        d = tmp_path / code
        d.mkdir()
        p = d / case.name
        if code != "IO000":
            p.write_text(case.bad)
        if case.bin_bad is not None:
            p.with_suffix(".bin").write_bytes(case.bin_bad)
        if code == "IO001":
            (d / f".{case.name}.modelfile").mkdir()
        files.append(p)
    result = lint_paths(files, isolated=True)
    assert {d.code for d in result.diagnostics} == set(RULES) - FIX_ONLY
    doc = render_sarif(result, root=tmp_path)
    _validate_sarif(doc)
    assert {r["ruleId"] for r in doc["runs"][0]["results"]} == set(RULES) - FIX_ONLY
    assert doc["runs"][0]["invocations"][0]["executionSuccessful"] is False  # unreadable inputs present


def test_sarif_outside_root_uses_file_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "m.param"
    p.write_text(NOT_BUMPED)
    sub = tmp_path / "elsewhere"
    sub.mkdir()
    monkeypatch.chdir(sub)
    doc = render_sarif(lint_paths([p]))
    _validate_sarif(doc)
    uri = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == p.as_uri()


def test_output_file(models: Path, tmp_path: Path) -> None:
    out = tmp_path / "lint.sarif"
    r = invoke(str(models), "--format", "sarif", "--report-file", str(out))
    assert r.exit_code == 1 and r.stdout == ""
    _validate_sarif(json.loads(out.read_text()))
    txt = tmp_path / "lint.txt"
    invoke(str(models), "--report-file", str(txt))
    assert "NCNN002" in txt.read_text() and "\x1b[" not in txt.read_text()


def test_fix_and_diff(models: Path) -> None:
    f = models / "bumped.param"
    r = invoke(str(f), "--diff")
    assert r.exit_code == 1
    assert "-1 1\n+2 2\n" in r.stdout
    assert f.read_text() == NOT_BUMPED  # --diff writes nothing
    r = invoke(str(f), "--fix")
    assert r.exit_code == 0, r.output
    assert "fixed line 2: layer count 1 -> 2" in r.output and "All checks passed" in r.output
    assert f.read_text() == CLEAN
    assert invoke(str(f), "--diff").exit_code == 0


def test_fix_leaves_other_findings_and_files(models: Path) -> None:
    fan = models / "fan.param"
    r = invoke(str(models), "--fix", "--fail-on", "warning")
    assert r.exit_code == 1  # the fan-out warning is not fixable
    assert fan.read_text() == FAN_OUT and (models / "clean.param").read_text() == CLEAN


def test_sherpa_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    p = tmp_path / "decoder.param"
    p.write_text(CLEAN)
    assert invoke(str(p)).exit_code == 0
    r = invoke(str(p), "--sherpa")
    assert r.exit_code == 1 and "SHERPA001" in r.output
    enc = tmp_path / "encoder.ncnn.param"
    enc.write_text(CLEAN)
    assert invoke(str(enc)).exit_code == 1
    assert invoke(str(enc), "--no-sherpa").exit_code == 0


def test_list_rules() -> None:
    r = runner.invoke(app, ["lint", "--list-rules"])
    assert r.exit_code == 0
    for code in RULES:
        assert code in r.output


# -- pyproject.toml ---------------------------------------------------------------------

def _project(tmp_path: Path, toml: str) -> Path:
    proj = tmp_path / "proj"
    (proj / "models" / "legacy").mkdir(parents=True)
    (proj / "pyproject.toml").write_text(toml)
    (proj / "models" / "fan.param").write_text(FAN_OUT)
    (proj / "models" / "legacy" / "bumped.param").write_text(NOT_BUMPED)
    (proj / "models" / "decoder.param").write_text(CLEAN)
    return proj


def _codes(result_stdout: str) -> dict[str, list[str]]:
    data = json.loads(result_stdout)
    out: dict[str, list[str]] = {}
    for d in data["diagnostics"]:
        out.setdefault(Path(d["file"]).name, []).append(d["code"])
    return out


def test_pyproject_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proj = _project(tmp_path, """
[project]
name = "x"

[tool.modelfile.lint]
ignore = ["NCNN011"]
fail-on = "warning"
severity = { NCNN010 = "error" }

[tool.modelfile.lint.per-file-ignores]
"models/legacy/*.param" = ["layer-count-low"]

[[tool.modelfile.lint.overrides]]
files = ["decoder*.param"]
sherpa = true
""")
    monkeypatch.chdir(tmp_path)  # config is found from the file, not the cwd
    r = invoke(str(proj / "models"), "--format", "json")
    codes = _codes(r.stdout)
    assert codes == {"fan.param": ["NCNN010"], "decoder.param": ["SHERPA001"]}
    data = json.loads(r.stdout)
    assert {d["severity"] for d in data["diagnostics"] if d["code"] == "NCNN010"} == {"error"}
    assert r.exit_code == 1
    # the command line wins
    r = invoke(str(proj / "models"), "--format", "json", "--ignore", "SHERPA", "--fail-on", "never")
    assert r.exit_code == 0 and _codes(r.stdout) == {"fan.param": ["NCNN010"]}
    r = invoke(str(proj / "models"), "--format", "json", "--isolated")
    assert _codes(r.stdout) == {"fan.param": ["NCNN010"], "bumped.param": ["NCNN002"]}


def test_pyproject_found_from_cwd_and_explicit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proj = _project(tmp_path, '[tool.modelfile.lint]\nselect = ["NCNN002"]\n')
    other = tmp_path / "other"
    other.mkdir()
    (other / "fan.param").write_text(FAN_OUT)
    monkeypatch.chdir(proj)
    r = invoke(str(other / "fan.param"), "--format", "json", "--fail-on", "info")
    assert r.exit_code == 0 and _codes(r.stdout) == {}  # the cwd's config applied: only NCNN002 selected
    monkeypatch.chdir(tmp_path)
    r = invoke(str(other / "fan.param"), "--format", "json", "--config", str(proj / "pyproject.toml"))
    assert _codes(r.stdout) == {}


@pytest.mark.parametrize("toml,words", [
    ('[tool.modelfile.lint]\nselect = ["NCNN999"]\n', "unknown rule"),
    ('[tool.modelfile.lint]\nfail-on = "sometimes"\n', "fail-on"),
    ('[tool.modelfile.lint]\ncolour = true\n', "unknown key"),
    ('[tool.modelfile.lint]\nsherpa = "maybe"\n', "sherpa"),
    ('[tool.modelfile.lint]\nseverity = { NCNN010 = "fatal" }\n', "severity"),
    ("[tool.modelfile.lint\n", "invalid TOML"),
])
def test_bad_config_is_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, words: str) -> None:
    proj = _project(tmp_path, toml)
    monkeypatch.chdir(tmp_path)
    r = invoke(str(proj / "models" / "fan.param"))
    assert r.exit_code == 2, r.output
    assert "pyproject.toml" in r.output and words in r.output and "Traceback" not in r.output


# -- pre-commit --------------------------------------------------------------------------

def test_pre_commit_hooks_file() -> None:
    text = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    ids = re.findall(r"^- id: (\S+)$", text, re.M)
    assert ids == ["modelfile-lint", "modelfile-lint-fix"]
    entries = re.findall(r"^  entry: (.+)$", text, re.M)
    assert entries == ["modelfile lint --skip-other-xml", "modelfile lint --skip-other-xml --fix"]
    files = re.findall(r"^  files: '(.+)'$", text, re.M)
    exclude = re.findall(r"^  exclude: '(.+)'$", text, re.M)
    assert len(files) == 2 and len(exclude) == 2
    pat, ex = re.compile(files[0]), re.compile(exclude[0])
    picked = [n for n in ("a/encoder.ncnn.param", "m.param.bin", "model.xml", "x.pnnx.param", "README.md",
                          "model.bin") if pat.search(n) and not ex.search(n)]
    assert picked == ["a/encoder.ncnn.param", "m.param.bin", "model.xml"]
    assert re.search(r"^  language: python$", text, re.M)


def test_hook_skips_other_xml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    pom = tmp_path / "pom.xml"
    pom.write_text("<project><modelVersion>4.0.0</modelVersion></project>")
    p = tmp_path / "m.param"
    p.write_text(CLEAN)
    assert invoke(str(pom), str(p)).exit_code == 2  # named explicitly: not an IR
    r = invoke("--skip-other-xml", str(pom), str(p))
    assert r.exit_code == 0 and "1 file" in r.output
