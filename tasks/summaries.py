"""The figures a stage run reports, labelled (the [results] words of the catalogue) for the CLI and
the Prefect UI alike."""

from lianchuang.words import section


def result_lines(summary: dict) -> list[tuple[str, str]]:
    """(label, formatted value) for every figure of a stage's summary (lists, tables and paths are
    shown by the command that asked for them)."""
    labels = section("results")
    return [(labels.get(key, key), f"{value:,}" if isinstance(value, int) else str(value))
            for key, value in summary.items() if key in labels or isinstance(value, (int, float))]
