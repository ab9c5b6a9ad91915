"""A large board's community pages and open data are written by two processes (a forked child
writes the open data and a third of the pages): the files are the same as one process writes, and
a child that fails fails the build."""

import os
from datetime import date

import pytest
from factories import YEAR, through_commitments
from sqlalchemy import select

from lianchuang.models import Community
from lianchuang.models.db import session_scope
from lianchuang.tasks import board
from lianchuang.tasks.cycle import ensure_cycle
from lianchuang.tasks.progress.ranking import publish_ranking

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the split needs os.fork")


def _district_published(session) -> int:
    cycle = ensure_cycle(session, YEAR)
    through_commitments(session, cycle.id, list(session.scalars(select(Community.id))))
    publish_ranking(session, cycle.id, YEAR, 3, date(YEAR, 4, 1))
    return cycle.id


def _pages(folder) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def test_two_processes_write_the_same_pages_as_one(district, tmp_path, monkeypatch):
    monkeypatch.setattr(board, "SPLIT_PAGES", 2)  # the small district's communities count as a large board
    with session_scope() as session:
        cycle_id = _district_published(session)
        one = board.build_board(session, cycle_id, YEAR, tmp_path / "one")
        two = board.build_board(session, cycle_id, YEAR, tmp_path / "two", split=True)
    assert one == two and _pages(tmp_path / "one") == _pages(tmp_path / "two")
    assert len([name for name in _pages(tmp_path / "two") if name.startswith("D")]) >= 4
    assert {"tasks.csv", "tasks.json", "rankings.json", "data.html"} <= set(_pages(tmp_path / "two"))


def test_a_failing_child_fails_the_build(district, tmp_path, monkeypatch):
    monkeypatch.setattr(board, "SPLIT_PAGES", 2)
    parent, write = os.getpid(), board._write

    def fails_in_the_child(*args, **context):
        if os.getpid() != parent:
            raise OSError("disk full")
        write(*args, **context)

    monkeypatch.setattr(board, "_write", fails_in_the_child)
    with session_scope() as session:
        cycle_id = _district_published(session)
        with pytest.raises(RuntimeError, match="另一半没有写完"):
            board.build_board(session, cycle_id, YEAR, tmp_path / "board", split=True)


def test_the_child_collects_none_of_the_rows_read_and_the_parent_unfreezes_them(tmp_path, monkeypatch):
    """What was read before the fork is frozen (gc.freeze) for the child, whose collections would
    otherwise touch, and so copy, every page holding it; the parent collects it again after."""
    import gc

    monkeypatch.setattr(board, "SPLIT_PAGES", 2)
    seen = tmp_path / "frozen-in-child"
    pages = [(tmp_path / f"{n}.html", "board/index.html", lambda: {}) for n in range(3)]
    monkeypatch.setattr(board, "_write", lambda path, template, **context: path.write_text("页"))
    board._write_pages(pages, True, lambda: seen.write_text(str(gc.get_freeze_count())))
    assert int(seen.read_text()) > 1000 and gc.get_freeze_count() == 0
    assert all(path.read_text() == "页" for path, _, _ in pages)
