"""Nothing a command writes destroys anything: `-o` never replaces the database or a file the app did
not write, a file is never half-written, file names come from codes, and the board never follows a link."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from factories import YEAR
from openpyxl import load_workbook

from lianchuang.errors import UserError
from lianchuang.models import Community
from lianchuang.models.db import session_scope
from lianchuang.tasks import files
from lianchuang.tasks.org import write_org_template

POSTGRES = bool(os.environ.get("LIANCHUANG_TEST_DATABASE_URL"))


def run(settings, *args, cwd=None):
    environment = os.environ | {"LIANCHUANG_DATA_DIR": str(settings.data_dir), "LIANCHUANG_DATABASE_URL": settings.db_url}
    return subprocess.run([sys.executable, "-m", "lianchuang.cli", *args], capture_output=True, text=True,
                          env=environment, timeout=120, cwd=cwd)


def refused_in_one_line(result, *fragments):
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert all(fragment in result.stderr for fragment in fragments), result.stderr


def internal_file(settings) -> Path:
    """The file whose loss would destroy the data: the SQLite database, or (on PostgreSQL) the Prefect server's."""
    if POSTGRES:
        path = settings.data_dir / "prefect" / "prefect.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"SQLite format 3\x00 stand-in")
        return path
    return Path(settings.db_url.removeprefix("sqlite:///"))


@pytest.mark.parametrize("command", [["org", "template"], ["assign", "export", "--year", str(YEAR)],
                                     ["notices", "preview", "ranking"]])
def test_o_never_replaces_the_database_even_with_force(settings, district, command):
    target = internal_file(settings)
    before = target.read_bytes()
    for force in ([], ["--force"]):
        refused_in_one_line(run(settings, *command, "-o", str(target), *force), "不能写入", "毁掉数据")
    assert target.read_bytes() == before
    assert run(settings, "org", "list").returncode == 0  # the database still works


def test_o_pointing_at_a_folder_is_refused_in_one_chinese_line(settings, tmp_path):
    refused_in_one_line(run(settings, "org", "template", "-o", str(tmp_path)), "是一个文件夹", "文件名")


def test_o_never_replaces_a_file_the_app_did_not_write_unless_forced(settings, tmp_path):
    mine = tmp_path / "组织架构.xlsx"
    mine.write_bytes(b"my own filled-in sheet")
    refused_in_one_line(run(settings, "org", "template", "-o", str(mine)), "已存在", "--force")
    assert mine.read_bytes() == b"my own filled-in sheet"
    forced = run(settings, "org", "template", "-o", str(mine), "--force")
    assert forced.returncode == 0, forced.stderr
    assert {"街道", "社区", "单位", "人员"} <= set(load_workbook(mine).sheetnames)


def test_the_apps_own_unchanged_file_is_replaced_but_not_once_filled_in(settings, tmp_path):
    sheet = tmp_path / "组织架构.xlsx"
    write_org_template(sheet)
    write_org_template(sheet)  # the same template again: nothing of the user's to lose
    book = load_workbook(sheet)
    book["社区"].append(["S01C09", "新社区", "S01"])  # now the user's work
    book.save(sheet)
    with pytest.raises(UserError, match="已存在"):
        write_org_template(sheet)
    assert load_workbook(sheet)["社区"]["B2"].value == "新社区"


def test_a_link_at_the_output_path_is_replaced_never_followed(settings, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "out.xlsx"
    link.symlink_to(victim)
    with pytest.raises(UserError, match="已存在"):
        write_org_template(link)
    write_org_template(link, force=True)
    assert victim.read_text() == "keep me" and not link.is_symlink()


def test_a_failed_write_leaves_the_old_file_whole_and_no_leftovers(tmp_path, monkeypatch):
    page = tmp_path / "page.html"
    page.write_text("old")

    def crash(*_):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        files.replace_file(page, "new" * 1000)
    assert page.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["page.html"]


def rename_community(code: str, name: str) -> None:
    with session_scope() as session:
        session.query(Community).filter_by(code=code).update({"name": name})


def test_a_community_named_with_slashes_prints_its_pages_inside_the_data_folder(settings, district):
    """Names from before import refused them: the print pages and the commitments go by the code."""
    from lianchuang.tasks.outbox import drafts as outbox, print_pages

    with session_scope() as session:
        community = session.query(Community).first()
        code = community.code
    rename_community(code, "../../../逃逸/社区")
    with session_scope() as session:
        outbox.queue(session, [outbox.Draft(YEAR, "opinions", "overdue", "P1", "王建国", None, dict(year=2026, through_month=6, tasks=[["T-001", "江滨社区", "夜间巡逻", "6月：过半", "50%", "20%"]]),
            community_id=community.id)])
        assert print_pages.write_print_batches(session, YEAR) == 1
    [page] = settings.print_dir.rglob("*.html")
    assert page.name == f"{code}.html" and settings.print_dir in page.parents
    assert not (settings.data_dir.parent / "逃逸").exists()


def test_a_name_with_a_path_character_or_an_invisible_one_is_refused_at_import(settings, tmp_path):
    from factories import fill_in_samples

    from lianchuang.errors import ImportRefused
    from lianchuang.tasks.org import parse_workbook

    path = tmp_path / "org.xlsx"
    write_org_template(path)
    fill_in_samples(path)
    book = load_workbook(path)
    book["社区"]["B2"] = "江滨/社区"
    book["街道"]["B2"] = "列东\u202e街道"  # a right-to-left override: shows reversed text
    book["人员"]["B2"] = "王\n建国"
    book["单位"]["B2"] = "..\\单位"
    book.save(path)
    with session_scope() as session, pytest.raises(ImportRefused) as refused:
        parse_workbook(session, path)
    where = {(p.file.split("/")[-1], p.row, p.column) for p in refused.value.problems}
    assert {("社区", 2, "社区名称"), ("街道", 2, "街道名称"), ("人员", 2, "姓名"), ("单位", 2, "单位名称")} <= where


def test_a_one_line_cell_with_a_zero_width_character_is_refused_but_free_text_may_have_lines(settings, district, tmp_path):
    from lianchuang.errors import ImportRefused
    from lianchuang.tasks.opinions.use_cases import import_opinion_file

    sheet = tmp_path / "opinions.csv"
    sheet.write_text("社区,来源类别,渠道,提出人,联系方式,内容,日期\n"
                     f'江滨社区,社区群众,入户,李\u200b四,138,"第一行\n第二行",{YEAR}-03-01\n', encoding="utf-8")
    with pytest.raises(ImportRefused) as refused:
        import_opinion_file(YEAR, sheet)
    assert [(p.row, p.column) for p in refused.value.problems] == [(2, "提出人")]
    assert "U+200B" in refused.value.problems[0].reason


def test_the_board_replaces_a_linked_page_instead_of_writing_through_it(settings, district, tmp_path):
    from lianchuang.tasks.commitments.use_cases import build_notice_board
    from lianchuang.tasks.cycle import ensure_cycle

    with session_scope() as session:
        ensure_cycle(session, YEAR)
        code = session.query(Community).first().code
    outside = tmp_path / "outside.html"
    outside.write_text("not the board's")
    folder = settings.board_dir / str(YEAR)
    folder.mkdir(parents=True)
    (folder / "index.html").symlink_to(outside)
    (folder / f"{code}.html").symlink_to(tmp_path / "missing.html")  # a dangling link gave a traceback
    pages, _ = build_notice_board(YEAR, None)
    assert pages > 2 and outside.read_text() == "not the board's"
    assert not (folder / "index.html").is_symlink() and "<html" in (folder / f"{code}.html").read_text(encoding="utf-8")


def test_the_board_refuses_a_linked_or_foreign_folder_in_one_line(settings, district, tmp_path):
    from lianchuang.tasks.cycle import ensure_cycle

    with session_scope() as session:
        ensure_cycle(session, YEAR)
    foreign = tmp_path / "my documents"
    foreign.mkdir()
    (foreign / "report.docx").write_bytes(b"mine")
    refused_in_one_line(run(settings, "board", "build", "--year", str(YEAR), "-o", str(foreign)), "已有其他文件", "--force")
    linked = tmp_path / "linked"
    linked.symlink_to(foreign)
    refused_in_one_line(run(settings, "board", "build", "--year", str(YEAR), "-o", str(linked)), "是一个链接")
    empty = tmp_path / "公开栏"
    built = run(settings, "board", "build", "--year", str(YEAR), "-o", str(empty))
    assert built.returncode == 0 and (empty / "index.html").exists(), built.stderr
    again = run(settings, "board", "build", "--year", str(YEAR), "-o", str(empty))  # its own board: rebuilt
    assert again.returncode == 0, again.stderr
    linked_sub = settings.board_dir / str(YEAR)
    linked_sub.parent.mkdir(parents=True, exist_ok=True)
    linked_sub.symlink_to(foreign)
    refused_in_one_line(run(settings, "board", "build", "--year", str(YEAR)), "链接")
    assert [p.name for p in foreign.iterdir()] == ["report.docx"]
