"""`lianchuang --help` lists the stages of the year first, in their order, and the operations last."""

from typer.testing import CliRunner

from lianchuang.cli import OPERATIONS_ORDER, YEARS_WORK, app


def test_help_lists_the_years_work_in_order_then_the_operations():
    shown = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "80"}).output
    positions = [shown.index(f"│ {name} ") for name in YEARS_WORK + OPERATIONS_ORDER]
    assert positions == sorted(positions), shown
    assert shown.index("一年的工作") < shown.index("运行与维护")
    assert set(YEARS_WORK) & set(OPERATIONS_ORDER) == set()
