"""``lint --fix`` writes through the save gate: a fix whose result the checks refuse writes nothing."""

from __future__ import annotations

import os
from pathlib import Path


from modelfile.lint import lint_paths

# one declared layer, two present: --fix counts the second in
UNDERCOUNTED = "7767517\n1 1\nInput            in0      0 1 in0\nReLU             relu     1 1 in0 out\n"
# the same, but the layer --fix would count in is one ncnn's load_param refuses (Permute order_type -1):
# lint (NCNN021) and ncnn refuse the fixed file
UNDERCOUNTED_BAD = "7767517\n1 1\nInput            in0      0 1 in0\nPermute          perm     1 1 in0 out 0=-1\n"


def _codes(path: Path) -> list[str]:
    return [d.code for d in lint_paths([path], isolated=True, fix=True).diagnostics]


def test_fix_keeps_the_file_mode(tmp_path: Path) -> None:
    p = tmp_path / "m.param"
    p.write_text(UNDERCOUNTED)
    os.chmod(p, 0o640)
    assert _codes(p) == []
    assert p.read_text() == UNDERCOUNTED.replace("\n1 1\n", "\n2 2\n")
    assert p.stat().st_mode & 0o777 == 0o640
    assert [q.name for q in tmp_path.iterdir()] == ["m.param"]  # no staging folder or journal left


def test_fix_the_gate_refuses_writes_nothing(tmp_path: Path) -> None:
    p = tmp_path / "m.param"
    p.write_text(UNDERCOUNTED_BAD)
    found = lint_paths([p], isolated=True, fix=True).diagnostics
    refused = [d for d in found if d.code == "IO002"]
    assert len(refused) == 1 and "NCNN021" in refused[0].message, found
    assert (refused[0].line, refused[0].column, refused[0].severity.value) == (1, 1, "warning")
    assert refused[0].hint and refused[0].extra.get("rule") == "fix-refused"
    assert "NCNN002" in {d.code for d in found}  # the count finding stands: nothing was fixed
    assert p.read_text() == UNDERCOUNTED_BAD
    assert [q.name for q in tmp_path.iterdir()] == ["m.param"]


def test_fix_on_a_read_only_file_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "m.param"
    p.write_text(UNDERCOUNTED)
    os.chmod(p, 0o444)
    found = lint_paths([p], isolated=True, fix=True).diagnostics
    assert any(d.code == "IO002" and "read-only" in d.message for d in found), found
    assert p.read_text() == UNDERCOUNTED
