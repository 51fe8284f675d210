"""The CLI starts fast: ``modelfile --help`` lists the commands from a static table without importing
them, and each command's module loads only when it runs. The table must say what the commands say."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

from typer.main import get_command_name
from typer.testing import CliRunner

from conftest import ROOT
from modelfile.cli import COMMANDS, app

runner = CliRunner()


def _first_paragraph(doc: str | None) -> str:
    return " ".join(inspect.cleandoc(doc or "").split("\n\n")[0].split())


def test_the_table_names_every_command_with_its_own_summary() -> None:
    registered = {}
    for module in {e.module for e in COMMANDS.values()}:
        importlib.import_module(f"modelfile.cli.{module}")
    for info in app.registered_commands:
        if info.rich_help_panel == "Installed passes":
            continue
        name = info.name or get_command_name(info.callback.__name__)
        registered[name] = (info.callback.__module__.rsplit(".", 1)[-1], _first_paragraph(info.callback.__doc__))
    assert set(registered) == set(COMMANDS), "add the command to (or drop it from) modelfile.cli.COMMANDS"
    for name, entry in COMMANDS.items():
        assert registered[name] == (entry.module, _first_paragraph(entry.summary)), name


def test_help_lists_every_command_and_loads_none() -> None:
    code = ("import sys\nsys.argv = ['modelfile', '--help']\nfrom modelfile.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "mods = [m for m in sys.modules if m.startswith('modelfile.cli.') or m.split('.')[0] in "
            "('numpy', 'lark', 'lxml', 'rich', 'openvino', 'ncnn') or m == 'importlib.metadata']\n"
            "print('LOADED', sorted(mods))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    loaded = r.stdout.rsplit("LOADED", 1)[1]
    assert loaded.strip() == "[]", loaded
    listed = [ln.split()[0] for ln in r.stdout.split("Commands:")[1].splitlines() if ln.strip()][:len(COMMANDS)]
    assert listed == list(COMMANDS)


def test_each_command_shows_its_full_options() -> None:
    for name in COMMANDS:
        r = runner.invoke(app, [name, "--help"])
        assert r.exit_code == 0, (name, r.output)
        assert _first_paragraph(COMMANDS[name].summary).split()[0] in r.output
        assert "--help" in r.output and "Options" in r.output
    assert "--add-sherpa-meta" in runner.invoke(app, ["patch", "--help"]).output
    assert "--report-file" in runner.invoke(app, ["lint", "--help"]).output


def test_unknown_command_suggests_from_the_whole_table() -> None:
    r = runner.invoke(app, ["extrct"])
    assert r.exit_code == 2 and "No such command 'extrct'" in r.output and "'extract'" in r.output


def test_info_shows_forty_outputs_and_counts_the_rest(tmp_path) -> None:
    import json

    lines = ["Input in0 0 1 in0", "Split sp 1 50 in0 " + " ".join(f"o{k}" for k in range(50))]
    p = tmp_path / "m.param"
    p.write_text("7767517\n2 51\n" + "\n".join(lines) + "\n")
    r = runner.invoke(app, ["info", str(p)])
    assert r.exit_code == 0 and "o39" in r.stdout and "o40 " not in r.stdout
    assert "... and 10 more outputs (50 in all; --json lists them)" in r.stdout
    assert len(json.loads(runner.invoke(app, ["info", str(p), "--json"]).stdout)["outputs"]) == 50


def test_main_leaves_what_it_loaded_to_the_os(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The console script freezes the GC when the command ends: the interpreter's exit then skips a cyclic
    collection over every node and value of the models the command loaded (0.35 s per 20,000-op IR)."""
    import subprocess
    import sys

    code = ("import gc, sys\nsys.argv = ['modelfile', '--version']\nfrom modelfile.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\nprint(gc.get_freeze_count())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert int(out.split()[-1]) > 0
