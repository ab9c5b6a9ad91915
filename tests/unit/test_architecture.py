"""The rooms and who may enter them (ARCHITECTURE.md, README "How it is built"): a stage's modules
never import another stage's; a shared room (the outbox, the board, the cycle, sheets, org, files,
open data, models) imports no stage. Only the Prefect steps, the flows, the commands and the demo,
which compose the year, reach every stage."""

import ast
import importlib
import pkgutil
from pathlib import Path

import lianchuang

STAGES = {"opinions", "division", "commitments", "progress", "evaluation"}
COMPOSERS = {"lianchuang.tasks.steps", "lianchuang.tasks.rules_simulation", "lianchuang.tasks.demo", "lianchuang.flows", "lianchuang.commands", "lianchuang.cli"}


def modules() -> list[str]:
    return sorted(name for _, name, _ in pkgutil.walk_packages(lianchuang.__path__, "lianchuang.")
                  if ".migrations" not in name)


def room(module: str) -> str | None:
    """The stage a module belongs to, "shared" for a shared room, None for a composer."""
    if any(module == c or module.startswith(c + ".") for c in COMPOSERS):
        return None
    parts = module.split(".")
    if len(parts) > 3 and parts[1] == "tasks" and parts[2] in STAGES:
        return parts[2]
    return "shared"


def imported_stages(module: str) -> set[str]:
    """The stages a module's source imports (at the top or inside a function)."""
    source = Path(importlib.util.find_spec(module).origin).read_text(encoding="utf-8")
    stages = set()
    for node in ast.walk(ast.parse(source)):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if len(parts) >= 3 and parts[:2] == ["lianchuang", "tasks"] and parts[2] in STAGES:
                stages.add(parts[2])
    return stages


def test_every_module_imports():
    for module in modules():
        importlib.import_module(module)


def test_no_stage_reaches_into_another_and_no_shared_room_into_a_stage():
    trespasses = []
    for module in modules():
        owner = room(module)
        if owner is None:
            continue
        foreign = imported_stages(module) - ({owner} if owner != "shared" else set())
        trespasses += [f"{module} → tasks.{stage}" for stage in sorted(foreign)]
    assert trespasses == []


def test_the_rule_is_checked_at_all():
    """The checker itself: a module of the outbox that imported a stage would be caught."""
    assert room("lianchuang.tasks.outbox.delivery") == "shared" and room("lianchuang.tasks.evaluation.ballots") == "evaluation"
    assert room("lianchuang.tasks.steps") is None
    assert imported_stages("lianchuang.tasks.steps") >= {"progress", "opinions"}
