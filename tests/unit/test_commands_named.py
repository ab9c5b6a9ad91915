"""Every `lianchuang ...` command that the README or a message of the program names exists: a
coordinator who follows a hint must never meet "No such command"."""

import re
from pathlib import Path

import typer

from lianchuang.cli import app

ROOT = Path(__file__).resolve().parents[2]
NAMED = re.compile(r"(?<![\w.])(?<!from )lianchuang ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?")


def named_commands() -> set[tuple[str, str | None, str]]:
    sources = [ROOT / "README.md", ROOT / "cli.py", *ROOT.glob("commands/*.py"), *ROOT.glob("tasks/**/*.py"),
               *ROOT.glob("flows/*.py"), *ROOT.glob("templates/**/*.j2"), ROOT / "errors.py"]
    found = set()
    for path in sources:
        for match in NAMED.finditer(path.read_text(encoding="utf-8")):
            found.add((match.group(1), match.group(2), path.relative_to(ROOT).as_posix()))
    return found


def test_every_named_command_exists():
    root = typer.main.get_command(app)
    missing = []
    for name, sub, where in sorted(named_commands(), key=str):
        command = root.commands.get(name)
        if command is None:
            missing.append(f"{where}: lianchuang {name}")
        elif hasattr(command, "commands") and sub is not None and sub not in command.commands:
            missing.append(f"{where}: lianchuang {name} {sub}")
    assert not missing, missing


def test_the_check_finds_commands_in_the_readme():
    assert ("commitments", "run", "README.md") in named_commands()
