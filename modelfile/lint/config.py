"""``[tool.modelfile.lint]`` in ``pyproject.toml``: rule selection, severities and per-file settings.

```toml
[tool.modelfile.lint]
select = ["ALL"]            # codes, code prefixes ("NCNN", "SHERPA00") or rule names
ignore = ["NCNN004"]
fail-on = "error"           # error | warning | info | never
sherpa = "auto"             # auto | true | false: run the sherpa-ncnn encoder rules
severity = { NCNN010 = "error" }

[tool.modelfile.lint.per-file-ignores]
"legacy/*.param" = ["NCNN007", "NCNN010"]

[[tool.modelfile.lint.overrides]]
files = ["models/asr/decoder*.param"]
sherpa = true
ignore = ["SHERPA001"]
```

The configuration of a linted file is the nearest ``pyproject.toml`` with a
``[tool.modelfile.lint]`` table, looking upward from the file's folder, then
from the current directory. File globs are matched against the path relative to
that ``pyproject.toml``'s folder; a glob without ``/`` also matches the bare
file name.
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ModelfileError, Severity
from .rules import Selection

__all__ = ["FileSettings", "LintConfig", "find_config", "load_config"]

_FAIL_ON = ("error", "warning", "info", "never")
_TOP_KEYS = {"select", "ignore", "fail-on", "sherpa", "severity", "per-file-ignores", "overrides"}
_OVERRIDE_KEYS = {"files", "select", "ignore", "sherpa", "severity", "fail-on"}


@dataclass
class FileSettings:
    """Everything that decides how one file is linted."""

    selection: Selection = field(default_factory=Selection)
    #: None = decide from the file (meta layer, file name), True/False = force
    sherpa: bool | None = None
    severity: dict[str, Severity] = field(default_factory=dict)
    #: findings at or above this make the exit code 1 (None = never)
    fail_on: Severity | None = Severity.ERROR
    #: layer types the app registers (``[tool.modelfile] custom-layers``, ``--custom-layer``)
    custom_layers: frozenset[str] = frozenset()


@dataclass
class _Override:
    files: list[str]
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    sherpa: bool | None = None
    severity: dict[str, Severity] = field(default_factory=dict)
    fail_on: str | None = None


@dataclass
class LintConfig:
    """A parsed ``[tool.modelfile.lint]`` table (empty when there is none)."""

    root: Path | None = None
    source: Path | None = None
    select: list[str] | None = None
    ignore: list[str] = field(default_factory=list)
    fail_on: str = "error"
    sherpa: bool | None = None
    severity: dict[str, Severity] = field(default_factory=dict)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    overrides: list[_Override] = field(default_factory=list)
    #: ``[tool.modelfile] custom-layers``: types the app registers, known to every command
    custom_layers: list[str] = field(default_factory=list)
    #: whether the pyproject.toml had a [tool.modelfile.lint] table or custom-layers
    present: bool = False

    def settings_for(self, path: Path, *, select: list[str] | None = None, ignore: list[str] | None = None,
                     fail_on: str | None = None, sherpa: bool | None = None,
                     custom_layers: list[str] | None = None) -> FileSettings:
        """Settings for ``path``; the command-line values given here win over the file's."""
        sel = list(self.select) if self.select is not None else None
        ign = list(self.ignore)
        sev = dict(self.severity)
        fo = self.fail_on
        sh = self.sherpa
        for pattern, codes in self.per_file_ignores.items():
            if self._matches(path, pattern):
                ign.extend(codes)
        for ov in self.overrides:
            if any(self._matches(path, p) for p in ov.files):
                if ov.select is not None:
                    sel = list(ov.select)
                ign.extend(ov.ignore)
                sev.update(ov.severity)
                if ov.sherpa is not None:
                    sh = ov.sherpa
                if ov.fail_on is not None:
                    fo = ov.fail_on
        if select:
            sel = list(select)
        if ignore:
            ign.extend(ignore)
        if fail_on is not None:
            fo = fail_on
        if sherpa is not None:
            sh = sherpa
        try:
            selection = Selection(sel, ign)
        except ValueError as e:
            raise ModelfileError(str(e), code="LINT-CONFIG", file=str(self.source or "")) from None
        return FileSettings(selection, sh, sev, _fail_on(fo, self.source),
                            frozenset(self.custom_layers) | frozenset(custom_layers or ()))

    def _matches(self, path: Path, pattern: str) -> bool:
        p = path.resolve()
        rel = p.as_posix()
        if self.root is not None:
            try:
                rel = p.relative_to(self.root.resolve()).as_posix()
            except ValueError:
                pass
        pat = pattern.removeprefix("./")
        if fnmatch.fnmatch(rel, pat) or ("/" not in pat and fnmatch.fnmatch(p.name, pat)):
            return True
        # "dir/**/x" also matches "dir/x"
        return "**/" in pat and fnmatch.fnmatch(rel, pat.replace("**/", ""))


def _fail_on(value: str, source: Path | None) -> Severity | None:
    v = str(value).lower()
    if v not in _FAIL_ON:
        raise ModelfileError(f"fail-on must be one of {', '.join(_FAIL_ON)}, not {value!r}", code="LINT-CONFIG",
                             file=str(source or ""))
    return None if v == "never" else Severity(v)


def _codes(value: Any, key: str, source: Path) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise ModelfileError(f"[tool.modelfile.lint] {key} must be a list of rule codes", code="LINT-CONFIG",
                             file=str(source))
    return [x.strip() for x in value if x.strip()]


def _sherpa(value: Any, source: Path) -> bool | None:
    if value in (None, "auto"):
        return None
    if isinstance(value, bool):
        return value
    raise ModelfileError(f"[tool.modelfile.lint] sherpa must be true, false or \"auto\", not {value!r}",
                         code="LINT-CONFIG", file=str(source))


def _severity(value: Any, source: Path) -> dict[str, Severity]:
    if not isinstance(value, dict):
        raise ModelfileError("[tool.modelfile.lint] severity must be a table of CODE = \"error|warning|info\"",
                             code="LINT-CONFIG", file=str(source))
    out: dict[str, Severity] = {}
    for code, sev in value.items():
        try:
            s = Severity(str(sev).lower())
        except ValueError:
            raise ModelfileError(f"[tool.modelfile.lint] severity {code} = {sev!r}: use error, warning or info",
                                 code="LINT-CONFIG", file=str(source)) from None
        try:
            for c in Selection._matches(code):
                out[c] = s
        except ValueError as e:
            raise ModelfileError(str(e), code="LINT-CONFIG", file=str(source)) from None
    return out


def _norm(table: dict[str, Any]) -> dict[str, Any]:
    return {k.replace("_", "-"): v for k, v in table.items()}


def load_config(pyproject: Path) -> LintConfig:
    """Parse the ``[tool.modelfile.lint]`` table of ``pyproject`` (empty config if absent)."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ModelfileError(f"cannot read: {e}", code="LINT-CONFIG", file=str(pyproject)) from None
    except tomllib.TOMLDecodeError as e:
        raise ModelfileError(f"invalid TOML: {e}", code="LINT-CONFIG", file=str(pyproject)) from None
    tool = data.get("tool", {}).get("modelfile", {})
    tool = tool if isinstance(tool, dict) else {}
    table = tool.get("lint")
    cfg = LintConfig(root=pyproject.parent, source=pyproject)
    custom = tool.get("custom-layers", tool.get("custom_layers"))
    if custom is not None:
        if not isinstance(custom, list) or not all(isinstance(x, str) and x.strip() for x in custom):
            raise ModelfileError("[tool.modelfile] custom-layers must be a list of layer type names",
                                 code="LINT-CONFIG", file=str(pyproject))
        cfg.custom_layers = [x.strip() for x in custom]
        cfg.present = True
    if table is None:
        return cfg
    if not isinstance(table, dict):
        raise ModelfileError("[tool.modelfile.lint] must be a table", code="LINT-CONFIG", file=str(pyproject))
    cfg.present = True
    table = _norm(table)
    unknown = sorted(set(table) - _TOP_KEYS)
    if unknown:
        raise ModelfileError(f"unknown key {unknown[0]!r} in [tool.modelfile.lint]; "
                             f"known: {', '.join(sorted(_TOP_KEYS))}", code="LINT-CONFIG", file=str(pyproject))
    if "select" in table:
        cfg.select = _codes(table["select"], "select", pyproject)
    cfg.ignore = _codes(table.get("ignore", []), "ignore", pyproject)
    cfg.fail_on = str(table.get("fail-on", "error"))
    _fail_on(cfg.fail_on, pyproject)
    cfg.sherpa = _sherpa(table.get("sherpa"), pyproject)
    cfg.severity = _severity(table.get("severity", {}), pyproject)
    pfi = table.get("per-file-ignores", {})
    if not isinstance(pfi, dict):
        raise ModelfileError("per-file-ignores must be a table of \"glob\" = [codes]", code="LINT-CONFIG",
                             file=str(pyproject))
    cfg.per_file_ignores = {k: _codes(v, f"per-file-ignores.{k}", pyproject) for k, v in pfi.items()}
    for ov in table.get("overrides", []):
        ov = _norm(ov) if isinstance(ov, dict) else {}
        bad = sorted(set(ov) - _OVERRIDE_KEYS)
        if bad or "files" not in ov:
            raise ModelfileError("each [[tool.modelfile.lint.overrides]] needs files = [globs] and may set "
                                 f"{', '.join(sorted(_OVERRIDE_KEYS - {'files'}))}", code="LINT-CONFIG",
                                 file=str(pyproject))
        if "fail-on" in ov:
            _fail_on(ov["fail-on"], pyproject)
        cfg.overrides.append(_Override(
            _codes(ov["files"], "overrides.files", pyproject),
            _codes(ov["select"], "overrides.select", pyproject) if "select" in ov else None,
            _codes(ov.get("ignore", []), "overrides.ignore", pyproject),
            _sherpa(ov.get("sherpa"), pyproject),
            _severity(ov.get("severity", {}), pyproject),
            ov.get("fail-on"),
        ))
    # validate the codes now, so a typo is reported once and up front
    for codes in [cfg.select or [], cfg.ignore, *cfg.per_file_ignores.values(),
                  *[(o.select or []) + o.ignore for o in cfg.overrides]]:
        try:
            Selection(codes or None, None)
        except ValueError as e:
            raise ModelfileError(str(e), code="LINT-CONFIG", file=str(pyproject)) from None
    return cfg


def _has_table(pyproject: Path) -> bool:
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return "tool.modelfile.lint" in text or "[tool.modelfile]" in text


def find_config(start: Path, cache: dict[Path, LintConfig | None] | None = None) -> LintConfig | None:
    """The nearest ``pyproject.toml`` with ``[tool.modelfile.lint]`` at or above ``start`` (a folder)."""
    d = start.resolve()
    visited: list[Path] = []
    found: LintConfig | None = None
    for folder in [d, *d.parents]:
        if cache is not None and folder in cache:
            found = cache[folder]
            break
        visited.append(folder)
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and _has_table(candidate):
            cfg = load_config(candidate)
            if cfg.present:
                found = cfg
                break
    if cache is not None:
        for folder in visited:
            cache[folder] = found
    return found
