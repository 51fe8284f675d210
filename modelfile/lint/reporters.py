"""Turn a :class:`~modelfile.lint.LintResult` into text (Rich, with carets), JSON, SARIF 2.1.0 or
GitHub workflow annotations. Renderers return data or strings; the CLI prints them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.text import Text

from .. import __version__
from ..errors import Diagnostic, Severity, excerpt
from . import LintResult
from .rules import RULES, sorted_rules

__all__ = ["FORMATS", "render_github", "render_json", "render_sarif", "render_text"]

FORMATS = ("text", "json", "sarif", "github")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


class _Lines:
    """Source lines of linted files, read once per file and only when a caret is drawn."""

    def __init__(self) -> None:
        self._files: dict[str, list[str] | None] = {}

    def get(self, path: str, line: int) -> str | None:
        if line <= 0:
            return None
        if path not in self._files:
            try:
                self._files[path] = Path(path).read_text(encoding="utf-8", errors="replace").split("\n")
            except OSError:
                self._files[path] = None
        lines = self._files[path]
        if not lines or line > len(lines):
            return None
        return lines[line - 1]


def _name(d: Diagnostic) -> str:
    r = RULES.get(d.code)
    return r.name if r else str(d.extra.get("rule", ""))


def render_text(result: LintResult, *, show_source: bool = True) -> list[Text]:
    """Rich renderables: ``file:line:col: severity CODE message [name]``, the source line with a caret, the hint."""
    out: list[Text] = []
    lines = _Lines()
    for fr in result.files:
        for change in fr.fixed:
            out.append(Text.assemble((f"{fr.path}: ", "bold"), ("fixed ", "green"), change))
        for d in fr.diagnostics:
            sev = d.severity.value
            head = Text.assemble((d.location(), "bold"), ": ", (sev, _STYLE[sev]), " ", (d.code, "bold"), " ",
                                 d.message, (f" [{_name(d)}]", "dim"))
            out.append(head)
            if show_source:
                src = lines.get(d.file, d.line)
                width = d.end_column - d.column if d.end_column > d.column else 1
                ex = excerpt(src, d.column, width) if src is not None else ""
                if ex:
                    num = str(d.line)
                    code_line, caret = ex.split("\n", 1)
                    out.append(Text.assemble((f" {num} | ", "dim"), code_line))
                    out.append(Text.assemble((f" {' ' * len(num)} | ", "dim"), (caret, _STYLE[sev])))
            if d.hint:
                out.append(Text.assemble(("  hint: ", "dim"), d.hint))
    out.append(_summary(result))
    return out


def _summary(result: LintResult) -> Text:
    c = result.counts()
    n = c["error"] + c["warning"] + c["info"]
    files = f"{c['files']} file{'s' if c['files'] != 1 else ''}"
    if not n:
        return Text(f"All checks passed ({files}).", style="green")
    parts = [f"{c[k]} {k}{'s' if c[k] != 1 else ''}" for k in ("error", "warning", "info") if c[k]]
    t = Text(f"Found {n} problem{'s' if n != 1 else ''} ({', '.join(parts)}) in {files}.",
             style="bold red" if c["error"] else "yellow")
    if c["fixable"]:
        t.append(f" {c['fixable']} fixable with --fix.", style="dim")
    return t


def _diag_dict(d: Diagnostic) -> dict[str, Any]:
    r = RULES.get(d.code)
    return {
        "code": d.code,
        "name": _name(d),
        "severity": d.severity.value,
        "file": d.file,
        "line": d.line,
        "column": d.column,
        "end_column": d.end_column,
        "message": d.message,
        "hint": d.hint,
        "fixable": bool(r and r.fixable),
    }


def render_json(result: LintResult) -> str:
    """``{"summary": {...}, "files": [...], "diagnostics": [...]}`` (a summary plus entries)."""
    payload = {
        "tool": "modelfile",
        "version": __version__,
        "summary": {**result.counts(), "exit_code": result.exit_code()},
        "files": [{"path": f.path, "unreadable": f.unreadable, "fixed": f.fixed,
                   "findings": len(f.diagnostics)} for f in result.files],
        "diagnostics": [_diag_dict(d) for d in result.diagnostics],
    }
    return json.dumps(payload, indent=2) + "\n"


_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _artifact(path: str, root: Path) -> dict[str, str]:
    p = Path(path)
    try:
        rel = p.resolve().relative_to(root)
        return {"uri": rel.as_posix(), "uriBaseId": "%SRCROOT%"}
    except (ValueError, OSError):
        pass
    if p.is_absolute():
        return {"uri": p.as_uri()}
    return {"uri": p.as_posix()}


def render_sarif(result: LintResult, *, root: Path | None = None) -> dict[str, Any]:
    """A SARIF 2.1.0 log (paths relative to ``root``, default the current directory, as ``%SRCROOT%``)."""
    base = (root or Path.cwd()).resolve()
    codes = [r.code for r in sorted_rules()]
    index = {c: i for i, c in enumerate(codes)}
    rules = []
    for c in codes:
        r = RULES[c]
        entry: dict[str, Any] = {
            "id": r.code,
            "name": "".join(w.capitalize() for w in r.name.split("-")),
            "shortDescription": {"text": r.summary},
            "fullDescription": {"text": r.summary},
            "defaultConfiguration": {"level": _SARIF_LEVEL[r.severity]},
            "properties": {"tags": [r.code.rstrip("0123456789").lower()], "short-name": r.name},
        }
        if r.hint:
            entry["help"] = {"text": r.hint}
        rules.append(entry)
    results = []
    for d in result.diagnostics:
        res: dict[str, Any] = {
            "ruleId": d.code,
            "level": _SARIF_LEVEL[d.severity],
            "message": {"text": d.message + (f"\nhint: {d.hint}" if d.hint else "")},
        }
        if d.code in index:
            res["ruleIndex"] = index[d.code]
        loc: dict[str, Any] = {"artifactLocation": _artifact(d.file, base)}
        if d.line > 0:
            region: dict[str, int] = {"startLine": d.line}
            if d.column > 0:
                region["startColumn"] = d.column
                if d.end_column > d.column:
                    region["endColumn"] = d.end_column
            loc["region"] = region
        res["locations"] = [{"physicalLocation": loc}]
        results.append(res)
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "modelfile",
            "version": __version__,
            "informationUri": "https://pypi.org/project/modelfile/",
            "rules": rules,
        }},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": base.as_uri() + "/"}},
        "invocations": [{"executionSuccessful": result.exit_code() != 2}],
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _gh_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(s: str) -> str:
    return _gh_data(s).replace(":", "%3A").replace(",", "%2C")


_GH_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render_github(result: LintResult) -> str:
    """GitHub Actions workflow commands: ``::error file=F,line=L,col=C,title=CODE::message``."""
    out = []
    for d in result.diagnostics:
        props = [f"file={_gh_prop(d.file)}"]
        if d.line > 0:
            props.append(f"line={d.line}")
            if d.column > 0:
                props.append(f"col={d.column}")
                if d.end_column > d.column:
                    props.append(f"endColumn={d.end_column}")
        props.append(f"title={_gh_prop(f'{d.code} {_name(d)}')}")
        msg = d.message + (f"\nhint: {d.hint}" if d.hint else "")
        out.append(f"::{_GH_LEVEL[d.severity]} {','.join(props)}::{_gh_data(msg)}")
    return "\n".join(out) + ("\n" if out else "")
