"""``modelfile lint``: findings about ncnn ``.param`` and OpenVINO IR ``.xml`` files, as data.

>>> from modelfile.lint import lint_paths
>>> result = lint_paths(["models/"])
>>> for d in result.diagnostics:
...     print(d.one_line(), d.code)
>>> result.exit_code()

Every rule has a stable code (``NCNN008``), a short name (``duplicate-top``), a
default severity and a hint; the table is ``modelfile/lint/README.md`` and
``RULES``. Nothing here prints: :mod:`modelfile.lint.reporters` turns a
:class:`LintResult` into text, JSON, SARIF or GitHub annotations, and the CLI
prints them.

Exit codes (:meth:`LintResult.exit_code`): 0 clean or only findings below
``fail-on``; 1 findings at or above ``fail-on`` (default ``error``); 2 an input
could not be read at all (``IO000``, ``NCNN000``, ``IR000``).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import Diagnostic, ModelfileError, Severity
from ..formats.ncnn import binparam
from ..formats.ncnn.reader import read_path
from . import rules_bin, rules_ir, rules_ncnn, rules_sherpa  # noqa: F401  (register the rules)
from .config import FileSettings, LintConfig, find_config, load_config
from .fix import FIXABLE, fix_text
from .ir_delta import DeltaSource, delta_errors, ir_document
from ..fileio import leftovers
from .rules import IO000, IO001, IO002, RULES, UNREADABLE_CODES, Rule, Selection
from .source import NcnnFile

__all__ = [
    "FIXABLE", "FileResult", "FileSettings", "LintConfig", "LintResult", "RULES", "Rule", "Selection",
    "UNREADABLE_CODES", "expand_paths", "fix_file", "fix_preview", "lint_file", "lint_paths", "prepare",
]

_LFS = b"version https://git-lfs.github.com/spec/"
#: file names a folder walk picks up (an explicit path is always linted)
_WALK_SUFFIXES = (".param", ".param.bin", ".xml")


@dataclass
class FileResult:
    """The findings for one file, and what ``--fix`` changed in it."""

    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    fail_on: Severity | None = Severity.ERROR
    fixed: list[str] = field(default_factory=list)

    @property
    def unreadable(self) -> bool:
        return any(d.code in UNREADABLE_CODES for d in self.diagnostics)

    @property
    def failing(self) -> bool:
        """Findings at or above this file's ``fail-on``."""
        if self.fail_on is None:
            return False
        return any(d.severity.rank >= self.fail_on.rank for d in self.diagnostics)


@dataclass
class LintResult:
    """All files of one run."""

    files: list[FileResult] = field(default_factory=list)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [d for f in self.files for d in f.diagnostics]

    def counts(self) -> dict[str, int]:
        """Findings per severity, plus ``files``, ``fixable`` and ``fixed``."""
        c = {"error": 0, "warning": 0, "info": 0}
        for d in self.diagnostics:
            c[d.severity.value] += 1
        c["files"] = len(self.files)
        c["fixable"] = sum(1 for d in self.diagnostics if d.code in FIXABLE)
        c["fixed"] = sum(len(f.fixed) for f in self.files)
        c["unreadable"] = sum(1 for f in self.files if f.unreadable)
        return c

    def exit_code(self) -> int:
        """0 clean, 1 findings at or above fail-on, 2 unreadable input."""
        if any(f.unreadable for f in self.files):
            return 2
        return 1 if any(f.failing for f in self.files) else 0


# -- finding files ------------------------------------------------------------------

def _walk(folder: Path) -> list[Path]:
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        for name in sorted(filenames):
            low = name.lower()
            if not low.endswith(_WALK_SUFFIXES) or low.endswith(".pnnx.param"):
                continue
            p = Path(dirpath) / name
            if low.endswith(".xml") and not _looks_like_ir(p):
                continue
            out.append(p)
    return out


def _looks_like_ir(p: Path) -> bool:
    try:
        with open(p, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return True  # let the linter report it
    return b"<net" in head.lower()


def expand_paths(paths: Iterable[str | os.PathLike[str]], *, skip_other_xml: bool = False,
                 ) -> tuple[list[Path], list[str]]:
    """Files to lint from paths, folders (recursive: ``*.param``, ``*.param.bin``, IR ``*.xml``;
    ``*.pnnx.param`` skipped) and globs; plus the arguments that matched nothing.

    An explicitly named file is always linted, except an ``.xml`` that is not an
    OpenVINO IR when ``skip_other_xml`` (for hooks that pass every staged ``.xml``).
    """
    files: list[Path] = []
    missing: list[str] = []
    for raw in paths:
        s = os.fspath(raw)
        p = Path(s)
        if p.is_dir():
            files.extend(_walk(p))
        elif p.exists():
            if not (skip_other_xml and p.suffix.lower() == ".xml" and not _looks_like_ir(p)):
                files.append(p)
        elif glob.has_magic(s):
            hits = sorted(glob.glob(s, recursive=True))
            found = [q for h in hits for q in (_walk(Path(h)) if Path(h).is_dir() else [Path(h)])]
            if found:
                files.extend(found)
            else:
                missing.append(s)
        else:
            missing.append(s)
    seen: set[Path] = set()
    unique = []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique, missing


# -- linting one file ---------------------------------------------------------------

def _kind(path: Path, head: bytes) -> str:
    """The rule pack for a file, by the registry's sniffing (the same as :func:`modelfile.load`)."""
    from ..formats.ncnn.sniff import is_binary
    from ..formats.registry import sniff_name

    try:
        name = sniff_name(path, head)
    except ModelfileError:
        return "ncnn"
    if name == "ncnn" and is_binary(head):
        return "ncnn-bin"
    return {"openvino": "ir"}.get(name, name)


def _from_error(e: ModelfileError, path: str) -> list[Diagnostic]:
    d = e.diagnostic
    if d.code == "NCNN-PNNX-IR":
        return [rules_ncnn.NCNN006.diag(d.message, path, d.line, d.column, hint=d.hint or None)]
    extra = {"rule": rules_ncnn.NCNN000.name, "reader_code": d.code}
    return [Diagnostic("NCNN000", Severity.ERROR, d.message, path, d.line, d.column,
                       d.hint or rules_ncnn.NCNN000.hint, d.end_column, extra)]


def _run(path: Path, settings: FileSettings, preread: Any = None, prepared: Any = None) -> list[Diagnostic]:
    p = str(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except IsADirectoryError:
        return [IO000.diag("is a directory", p)]
    except OSError as e:
        return [IO000.diag(f"cannot read: {e.strerror or e}", p)]
    enabled = settings.selection.enabled()
    stage = leftovers(path)
    if stage is not None and "IO001" in enabled:
        return [IO001.diag(f"an interrupted save left {stage.name}/ beside this file", p, 0, 0),
                *_run_kind(path, head, settings, enabled, preread, prepared)]
    return _run_kind(path, head, settings, enabled, preread, prepared)


def _run_kind(path: Path, head: bytes, settings: FileSettings, enabled: Any, preread: Any = None,
              prepared: Any = None) -> list[Diagnostic]:
    p = str(path)
    kind = _kind(path, head)
    if kind == "ir":
        if preread is not None and isinstance(prepared, DeltaSource):
            if delta_errors(path, preread, prepared, settings) == []:
                return []
        try:
            parsed = prepared if isinstance(prepared, rules_ir.ParseAhead) else None
            irf = rules_ir.read_ir(path, preread=preread, parsed=parsed)
        except rules_ir.IrUnreadable as e:
            return [e.diagnostic]
        return [d for d in rules_ir.check_ir(irf, enabled) if d.code in enabled]
    if head.startswith(_LFS):
        return [rules_ncnn.NCNN000.diag("this is a git-lfs pointer, not the model (run git lfs pull)", p, 1, 1)]
    try:
        if kind == "ncnn-bin":
            graph, doc = binparam.read_path(path), None
        elif (reused := _unedited_ncnn(path, preread)) is not None:
            graph, doc = reused  # the save gate's re-read: lint it instead of reading the file again
        else:
            graph, doc = read_path(path, strict=False)
    except ModelfileError as e:
        return [d for d in _from_error(e, p) if d.code in enabled]
    except Exception as e:  # a reader bug must not take the whole run down
        return [rules_ncnn.NCNN000.diag(f"the ncnn reader failed on this file ({type(e).__name__}: {e}); "
                                        "please report it", p, hint="this is a bug in modelfile, not in the file")]
    f = NcnnFile(p, graph, doc, settings.sherpa, settings.custom_layers)
    out: list[Diagnostic] = []
    for codes, check in rules_ncnn.CHECKS:
        if codes & enabled:
            out.extend(d for d in check(f) if d.code in enabled)
    return out


def _unedited_ncnn(path: Path, preread: Any) -> tuple[Any, Any] | None:
    """``(graph, document)`` of ``preread`` when it is a text ``.param`` model that still renders to exactly
    the bytes now in ``path`` (every layer line clean, none added, removed or moved, counts as declared,
    nothing after the layers), so linting it is linting the file; else None and the file is read."""
    from ..formats.ncnn.reader import LineSource, NcnnDocument, signature

    graph = getattr(preread, "graph", None)
    doc = getattr(graph, "source", None)
    if not isinstance(doc, NcnnDocument) or doc.problems or doc.trailing.strip():
        return None
    nodes = list(graph.nodes)  # type: ignore[union-attr]
    if len(nodes) != doc.declared_layers or len(nodes) != doc.layers_at_load:
        return None
    last = 0
    for n in nodes:
        src = n.source
        if not isinstance(src, LineSource) or src.lineno <= last or src.sig != signature(n):
            return None
        last = src.lineno
    try:
        same = path.read_bytes().decode("utf-8") == "".join(doc.lines)
    except (OSError, UnicodeDecodeError):
        return None
    return (graph, doc) if same else None


def _finish(diags: list[Diagnostic], settings: FileSettings) -> list[Diagnostic]:
    if settings.severity:
        diags = [replace(d, severity=settings.severity.get(d.code, d.severity)) for d in diags]
    return sorted(diags, key=lambda d: (d.line, d.column, d.code))


def _check_codes(select: Sequence[str] | None, ignore: Sequence[str] | None) -> None:
    """Unknown codes given by the caller are its mistake, not the configuration's."""
    try:
        Selection(select, ignore)
    except ValueError as e:
        raise ModelfileError(str(e), code="LINT-USAGE") from None


class _Configs:
    """Finds each file's configuration (nearest pyproject.toml), with caching."""

    def __init__(self, config: LintConfig | Path | str | None, isolated: bool) -> None:
        self.fixed: LintConfig | None = None
        if isinstance(config, LintConfig):
            self.fixed = config
        elif config is not None:
            self.fixed = load_config(Path(config))
        self.isolated = isolated
        self.cache: dict[Path, LintConfig | None] = {}

    def for_path(self, path: Path) -> LintConfig:
        if self.fixed is not None:
            return self.fixed
        if self.isolated:
            return LintConfig()
        return (find_config(path.parent, self.cache) or find_config(Path.cwd(), self.cache)
                or LintConfig())


def lint_paths(
    paths: Iterable[str | os.PathLike[str]],
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    config: LintConfig | Path | str | None = None,
    *,
    fail_on: str | None = None,
    sherpa: bool | None = None,
    fix: bool = False,
    isolated: bool = False,
    skip_other_xml: bool = False,
    custom_layers: Sequence[str] | None = None,
) -> LintResult:
    """Lint files, folders and globs.

    ``select``/``ignore``/``fail_on``/``sherpa`` override the configuration
    (``config``: a :class:`LintConfig`, a ``pyproject.toml`` path, or None to
    find the nearest ``pyproject.toml`` per file; ``isolated`` ignores all
    configuration). ``custom_layers``: layer types the app registers (added to the configuration's
    ``[tool.modelfile] custom-layers``); they count as known. With ``fix`` the fixable findings are repaired in place
    first (see :func:`fix_file`) and the file is linted again. ``skip_other_xml``:
    see :func:`expand_paths`.

    Raises :class:`~modelfile.errors.ModelfileError` for a bad configuration or
    an unknown rule code.
    """
    _check_codes(select, ignore)
    configs = _Configs(config, isolated)
    files, missing = expand_paths(paths, skip_other_xml=skip_other_xml)
    result = LintResult()
    for m in missing:
        result.files.append(FileResult(m, [IO000.diag("no such file (or the glob matched nothing)", m)]))
    for path in files:
        cfg = configs.for_path(path)
        settings = cfg.settings_for(path, select=list(select) if select else None,
                                    ignore=list(ignore) if ignore else None, fail_on=fail_on, sherpa=sherpa,
                                    custom_layers=list(custom_layers or ()))
        fr = FileResult(str(path), fail_on=settings.fail_on)
        diags = _run(path, settings)
        if fix and any(d.code in FIXABLE for d in diags):
            try:
                fr.fixed = fix_file(path, sorted(settings.custom_layers))
            except ModelfileError as e:  # the gate refused the fixed file: the findings stand
                diags.append(IO002.diag(f"--fix not applied: {e.diagnostic.message}", str(path), 1, 1))
            if fr.fixed:
                diags = _run(path, settings)
        fr.diagnostics = _finish(diags, settings)
        result.files.append(fr)
    return result


def lint_file(
    path: str | os.PathLike[str],
    select: Sequence[str] | None = None,
    ignore: Sequence[str] | None = None,
    *,
    sherpa: bool | None = None,
    config: LintConfig | Path | str | None = None,
    custom_layers: Sequence[str] | None = None,
    preread: Any = None,
    prepared: Any = None,
) -> list[Diagnostic]:
    """Findings for one file, sorted by position (configuration and ``custom_layers`` as in
    :func:`lint_paths`).

    ``preread``: the :class:`~modelfile.model.Model` that ``modelfile.load(path)`` returned for the file as it
    is now (the save gate's re-read), so that lint does not run modelfile's reader on it again where the
    format's rules can start from the reader's result (IR); the findings are the same as without it.
    ``prepared``: what :func:`prepare` started on the file before it was read.
    """
    _check_codes(select, ignore)
    p = Path(path)
    cfg = _Configs(config, False).for_path(p)
    settings = cfg.settings_for(p, select=list(select) if select else None, ignore=list(ignore) if ignore else None,
                                sherpa=sherpa, custom_layers=list(custom_layers or ()))
    return _finish(_run(p, settings, preread, prepared), settings)


def prepare(path: str | os.PathLike[str], source: Any = None) -> Any:
    """What :func:`lint_file` of ``path`` can start or know before the save gate's re-read; pass it to
    :func:`lint_file` (with the re-read as ``preread``) as ``prepared``.

    ``source``: the model the file was written from. For an IR written from a model read from a file, that
    is the source to compare with: lint then looks for errors only in what the writer changed plus the
    whole graph, on the re-read's records (``lint_file`` returns ``[]`` when that finds no error, else the
    full findings), see :mod:`modelfile.lint.ir_delta`. Otherwise, for an IR: its XML tree, parsed in a thread
    without the GIL, overlapping the re-read. None when there is nothing to start.
    """
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            head = fh.read(512)
    except OSError:
        return None
    if _kind(p, head) != "ir":
        return None
    if source is not None and ir_document(source) is not None:
        return DeltaSource(source)
    return rules_ir.parse_ahead(p)


def fix_preview(path: str | os.PathLike[str]) -> tuple[str, str, list[str]] | None:
    """``(old text, fixed text, changes)`` for an ncnn text ``.param`` (None: not one, or unreadable)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError:
        return None
    if _kind(p, data[:512]) != "ncnn" or data.startswith(_LFS):
        return None
    try:
        read_path(p, strict=False)  # refuses what the reader refuses (and checks the encoding)
        text = data.decode("utf-8")
        new, changes = fix_text(text, str(p))
    except Exception:  # ModelfileError, bad encoding, or a reader bug: nothing safe to fix
        return None
    return text, new, changes


def fix_file(path: str | os.PathLike[str], custom_layers: Sequence[str] = ()) -> list[str]:
    """Fix the header counts of an ncnn text ``.param`` in place; return the changes.

    The fixed text is written through the save gate (re-read, lint, the runtime when installed), so a
    fix that would leave a file the runtime refuses writes nothing and raises
    :class:`~modelfile.errors.ModelfileError`. Other files and files without count problems are left
    alone (empty list).
    """
    from ..formats.registry import sniff

    preview = fix_preview(path)
    if preview is None or not preview[2]:
        return []
    _old, new, changes = preview
    p = Path(path)
    model = sniff(p).read_text(new, p)
    model.save(p, custom_layers=custom_layers)  # the save gate (the package installs it)
    return changes
