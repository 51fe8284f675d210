"""``modelfile lint``: check ncnn .param and OpenVINO .xml files; render the findings."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from ..errors import ModelfileError
from . import app
from .common import handle_errors, out, unified_diff


def _split(values: list[str] | None) -> list[str]:
    return [c.strip() for v in values or [] for c in v.split(",") if c.strip()]


def _list_rules() -> None:
    from ..lint.rules import sorted_rules

    t = Table(title="modelfile lint rules", title_justify="left")
    for col in ("code", "name", "severity", "fix", "what"):
        t.add_column(col)
    for r in sorted_rules():
        t.add_row(r.code, r.name, r.severity.value, "yes" if r.fixable else "", r.summary)
    out.print(t)


@app.command()
@handle_errors
def lint(
    files: Annotated[Optional[list[Path]], typer.Argument(
        help="Files, folders (searched for *.param, *.param.bin, IR *.xml) and globs.", show_default=False)] = None,
    output_format: Annotated[str, typer.Option(
        "--format", "-f", help="text, json, sarif (SARIF 2.1.0 for code scanning) or github (workflow annotations).")
    ] = "text",
    select: Annotated[Optional[list[str]], typer.Option(
        "--select", help="Only these rules: codes, prefixes (NCNN, SHERPA00) or names; comma-separated.")] = None,
    ignore: Annotated[Optional[list[str]], typer.Option(
        "--ignore", help="Skip these rules (codes, prefixes or names); comma-separated.")] = None,
    fail_on: Annotated[Optional[str], typer.Option(
        "--fail-on", help="Exit 1 on findings at or above: error (default), warning, info, never.")] = None,
    fix: Annotated[bool, typer.Option("--fix", help="Fix header counts in place through the save gate, then lint again.")
                   ] = False,
    diff: Annotated[bool, typer.Option(
        "--diff", help="Print what --fix would change as a diff and exit 1 if anything would; write nothing.")
    ] = False,
    sherpa: Annotated[Optional[bool], typer.Option(
        "--sherpa/--no-sherpa", help="Force the sherpa-ncnn encoder rules on or off (default: auto-detect).",
        show_default=False)] = None,
    config: Annotated[Optional[Path], typer.Option(
        "--config", help="Use this pyproject.toml instead of the nearest one.")] = None,
    isolated: Annotated[bool, typer.Option("--isolated", help="Ignore all pyproject.toml configuration.")] = False,
    output: Annotated[Optional[Path], typer.Option(
        "--report-file", help="Write the report to this file (-o is for models everywhere).")] = None,
    skip_other_xml: Annotated[bool, typer.Option(
        "--skip-other-xml", help="Skip named .xml files that are not OpenVINO IR (for pre-commit).")] = False,
    list_rules: Annotated[bool, typer.Option("--list-rules", help="Print the rule table and exit.")] = False,
    custom_layer: Annotated[Optional[list[str]], typer.Option(
        "--custom-layer", help="A layer type the app registers itself (repeat, or comma-separate); it counts as "
                               "known. Also [tool.modelfile] custom-layers in pyproject.toml.")] = None,
) -> None:
    """Check model files for mistakes ncnn, sherpa-ncnn and OpenVINO make silent.

    Exit status: 0 clean (or only findings below --fail-on), 1 findings at or above
    --fail-on, 2 unreadable input or bad usage. Configure in the tool.modelfile.lint
    table of pyproject.toml; rules: modelfile lint --list-rules.
    Example: modelfile lint models/ --format sarif --report-file lint.sarif
    """
    from ..lint import lint_paths
    from ..lint.reporters import FORMATS, render_github, render_json, render_sarif, render_text

    if list_rules:
        _list_rules()
        return
    if not files:
        raise ModelfileError("no files given", hint="modelfile lint FILE|FOLDER|GLOB ...")
    fmt = output_format.lower()
    if fmt not in FORMATS:
        raise ModelfileError(f"unknown --format {output_format!r}; use {', '.join(FORMATS)}")
    if fail_on is not None and fail_on.lower() not in ("error", "warning", "info", "never"):
        raise ModelfileError(f"unknown --fail-on {fail_on!r}; use error, warning, info or never")
    if fix and diff:
        raise ModelfileError("use either --fix or --diff, not both")
    if isolated and config is not None:
        raise ModelfileError("use either --config or --isolated, not both")
    if diff:
        raise typer.Exit(1 if _print_diffs(files, skip_other_xml) else 0)
    result = lint_paths(files, _split(select) or None, _split(ignore) or None, config, fix=fix,
                        fail_on=fail_on.lower() if fail_on else None, sherpa=sherpa, isolated=isolated,
                        skip_other_xml=skip_other_xml,
                        custom_layers=_split(custom_layer))
    if fmt == "text":
        if output is not None:
            from rich.console import Console

            with open(output, "w", encoding="utf-8") as fh:
                console = Console(file=fh, highlight=False, soft_wrap=True, no_color=True, width=200)
                for item in render_text(result):
                    console.print(item)
        else:
            for item in render_text(result):
                out.print(item)
    else:
        text = {"json": render_json, "github": render_github}.get(fmt)
        body = text(result) if text else json.dumps(render_sarif(result), indent=2) + "\n"
        if output is not None:
            output.write_text(body, encoding="utf-8")
        else:
            sys.stdout.write(body)
    code = result.exit_code()
    if code:
        raise typer.Exit(code)


def _print_diffs(files: list[Path], skip_other_xml: bool) -> int:
    """Print the diff --fix would apply to each file; return how many files would change."""
    from ..lint import expand_paths, fix_preview

    paths, _missing = expand_paths(files, skip_other_xml=skip_other_xml)
    changed = 0
    for p in paths:
        preview = fix_preview(p)
        if preview is not None and preview[2]:
            changed += 1
            sys.stdout.write(unified_diff(preview[0], preview[1], p.as_posix().lstrip("/")))
    return changed
