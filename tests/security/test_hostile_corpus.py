"""A hostile corpus against every importer, through the command a coordinator types: 50 CSV files
(10 kinds of damage × the 5 importers that read CSV) and 15 workbooks (5 kinds × the 3 that read
only XLSX). Each must end with a non-zero exit and a clear message naming the file (and, for a bad
cell, its row), with no traceback and nothing written; a file that is in fact acceptable (formula
text) may import, as text."""

import io
import zipfile

import pytest
from factories import YEAR, add_task_per_community
from sqlalchemy import func, select

from lianchuang.models import Base
from lianchuang.models.db import session_scope
from lianchuang.tasks.division import posts, sheets as division_sheets
from lianchuang.tasks.evaluation.ballots import BALLOT_COLUMNS
from lianchuang.tasks.opinions import sheets as opinion_sheets
from lianchuang.tasks.progress import reports

CSV_IMPORTERS = {  # command → its columns (the header a filled-in template has)
    "opinions import": opinion_sheets.COLUMNS, "assign import": division_sheets.COLUMNS, "posts import": posts.COLUMNS,
    "progress import": reports.COLUMNS, "evaluate import": BALLOT_COLUMNS}
XLSX_IMPORTERS = ["org import", "deliberate import", "evaluate scheme-import"]


def _rows(columns, cell: str) -> str:
    return ",".join(c.header for c in columns) + "\n" + ",".join([cell] * len(columns)) + "\n"


CSV_DAMAGE = {  # kind → bytes of the file, given the importer's columns; the bad cell is on row 2
    "empty": lambda columns: b"",
    "unknown-header": lambda columns: "甲,乙,丙\n1,2,3\n".encode(),
    "huge-cell": lambda columns: _rows(columns, "长" * 200_000).encode(),
    "nul-byte": lambda columns: _rows(columns, "江滨\x00社区").encode(),
    "utf-16": lambda columns: _rows(columns, "江滨社区").encode("utf-16"),
    "latin-1": lambda columns: (",".join(c.key for c in columns) + "\n" + ",".join(["Café Müller"] * len(columns))).encode("latin-1"),
    "superscript": lambda columns: _rows(columns, "5²").encode(),
    "twenty-digits": lambda columns: _rows(columns, "99999999999999999999").encode(),
    "binary": lambda columns: bytes(range(256)) * 40,
    "formula": lambda columns: _rows(columns, '=HYPERLINK("http://attacker.example","点这里")').encode(),
}


def _workbook(cells: dict[str, object], title: str = "Sheet") -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = title
    for ref, value in cells.items():
        book.active[ref] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


XLSX_DAMAGE = {
    "not-a-zip": lambda: "组织架构,,\n".encode() * 100,
    "truncated": lambda: _workbook({"A1": "x"})[:300],
    "no-expected-sheet": lambda: _workbook({"A1": "随便"}, "别的表"),
    "zip-without-workbook": lambda: _zip({"hello.txt": "不是工作簿"}),
    "formula-only": lambda: _workbook({"A1": "=1+1", "A2": '=HYPERLINK("http://attacker.example")'}),
}


def _zip(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


CORPUS = ([(command, kind, ".csv") for command in CSV_IMPORTERS for kind in CSV_DAMAGE]
          + [(command, kind, ".xlsx") for command in XLSX_IMPORTERS for kind in XLSX_DAMAGE])


def test_the_corpus_covers_every_importer_with_at_least_sixty_files():
    assert len(CORPUS) >= 60 and {c for c, _, _ in CORPUS} == set(CSV_IMPORTERS) | set(XLSX_IMPORTERS)


def lianchuang(args: list[str], capsys, monkeypatch) -> tuple[int, str]:
    """The command as typed (in this process, through `main`, which maps user errors to messages)."""
    import sys

    from lianchuang.cli import main

    monkeypatch.setattr(sys, "argv", ["lianchuang", *args])
    try:
        main()
        code = 0
    except SystemExit as exit:
        code = exit.code or 0
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.fixture
def year_under_way(district, settings, prefect_harness):
    from lianchuang.tasks.cycle import ensure_cycle

    add_task_per_community()
    with session_scope() as session:
        ensure_cycle(session, YEAR)


def _rows_stored() -> int:
    with session_scope() as session:
        return sum(session.scalar(select(func.count()).select_from(table)) for table in Base.metadata.sorted_tables
                   if table.name != "audit_entry")


@pytest.mark.parametrize("command,kind,suffix", CORPUS, ids=[f"{c.replace(' ', '-')}-{k}" for c, k, _ in CORPUS])
def test_a_hostile_file_is_refused_clearly_with_nothing_written(year_under_way, tmp_path, capsys, monkeypatch, command, kind, suffix):
    content = CSV_DAMAGE[kind](CSV_IMPORTERS[command]) if suffix == ".csv" else XLSX_DAMAGE[kind]()
    path = tmp_path / f"{kind}{suffix}"
    path.write_bytes(content)
    before = _rows_stored()
    year = [] if command == "org import" else ["--year", str(YEAR)]
    exit_code, said = lianchuang([*command.split(), str(path), *year], capsys, monkeypatch)  # a traceback would raise here
    if kind.startswith("formula") and exit_code == 0:
        return  # formula text is only text: a file otherwise fine may import it
    assert exit_code != 0, said
    assert path.name in said, said  # the message names the file
    if kind in ("huge-cell", "nul-byte", "superscript", "twenty-digits"):
        assert "第2行" in said, said  # and the row of the bad cell
    assert _rows_stored() == before, said
