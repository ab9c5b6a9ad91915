"""Hostile input found by an adversarial tester: each case refused or neutralised, never a traceback."""

from datetime import date
from pathlib import Path

import pytest
from factories import YEAR, fill_in_samples, write_lines
from openpyxl import load_workbook
from sqlalchemy import select

from lianchuang.errors import ImportRefused, UserError
from lianchuang.models import Notice
from lianchuang.models.db import session_scope
from lianchuang.tasks.org import parse_workbook, write_org_template
from lianchuang.tasks.outbox import drafts as outbox
from lianchuang.tasks.sheets import write_template


def test_a_contact_with_a_header_in_it_is_never_used_as_an_address(settings, district):
    injected = "victim@example.cn\r\nBcc: evil@attacker.example"
    with session_scope() as session:
        outbox.queue(session, [outbox.Draft(YEAR, "opinions", "overdue", "X1", "居民", injected, dict(year=2026, through_month=6, tasks=[["T-001", "江滨社区", "夜间巡逻", "6月：过半", "50%", "20%"]]))])
        notice = session.scalars(select(Notice)).one()
    assert notice.recipient_email is None and notice.status == "printed"  # kept for paper, never a header


def test_the_mime_builder_refuses_a_header_value_with_a_line_break():
    from lianchuang.tasks.outbox.mime import _address

    with pytest.raises(ValueError):
        _address("居民", "victim@example.cn\r\nBcc: evil@attacker.example")


def test_a_cell_starting_with_an_equals_sign_is_exported_as_text(tmp_path):
    from lianchuang.tasks.sheets import Column

    path = tmp_path / "out.xlsx"
    write_template(path, {"表": [Column("text", "内容")]}, choices={},
                   examples={"表": [['=HYPERLINK("http://attacker.example","点我")']]})
    cell = load_workbook(path)["表"]["A2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


@pytest.mark.parametrize("code", ["../x", "/abs/path", "a/b", "S01 C01"])
def test_a_code_that_would_become_a_path_is_refused_at_import(settings, tmp_path, code):
    path = tmp_path / "org.xlsx"
    write_org_template(path)
    fill_in_samples(path)
    book = load_workbook(path)
    book["社区"].cell(2, 1, code)
    book.save(path)
    with session_scope() as session, pytest.raises(ImportRefused) as refused:
        parse_workbook(session, path)
    assert any(p.column == "社区编码" and "只能用字母" in p.reason for p in refused.value.problems)


def test_the_board_never_writes_outside_its_folder(tmp_path):
    from lianchuang.tasks.board import _page

    assert _page(tmp_path, "C01.html") == tmp_path / "C01.html"
    with pytest.raises(UserError):
        _page(tmp_path, "../escape.html")


@pytest.mark.parametrize("percent", ["6²", "¹⁰", "99999999999999999999"])
def test_odd_digits_and_huge_numbers_are_refused_with_their_cell(settings, district, tmp_path, percent):
    from lianchuang import clock
    from lianchuang.tasks.cycle import ensure_cycle
    from lianchuang.tasks.progress.reports import import_progress

    path = write_lines(tmp_path / "p.csv", ["任务编号,报告日期,完成百分比,投入资金（元）", f"T-1,{YEAR}-03-02,50,{percent}"])
    with clock.frozen_at(date(YEAR, 4, 1)), session_scope() as session, pytest.raises(ImportRefused) as refused:
        import_progress(session, ensure_cycle(session, YEAR).id, YEAR, path)
    assert any(p.column == "投入资金（元）" for p in refused.value.problems)


def test_a_csv_cell_over_the_csv_modules_limit_and_a_nul_byte_do_not_crash(settings, district, tmp_path):
    from lianchuang.tasks.cycle import ensure_cycle
    from lianchuang.tasks.opinions.sheets import import_opinions

    with session_scope() as session:
        from lianchuang.models import Community

        name = session.scalars(select(Community.name).order_by(Community.code)).first()
    path = write_lines(tmp_path / "o.csv", ["社区,来源类别,渠道,提出人,联系方式,内容,日期",
                                           f"{name},社区群众,入户,王\x00五,,{'长' * 140_000},{YEAR}-01-05"])
    with session_scope() as session:
        try:
            import_opinions(session, ensure_cycle(session, YEAR).id, YEAR, Path(path))
        except ImportRefused:
            pass  # refused with a located problem is fine; what must not happen is a crash
    with session_scope() as session:
        from lianchuang.models import Opinion

        assert all("\x00" not in (o.submitter_name or "") for o in session.scalars(select(Opinion)))


def test_a_name_longer_than_its_column_holds_is_refused_with_its_cell_and_the_limit(settings, district, tmp_path):
    path = tmp_path / "org.xlsx"
    write_org_template(path)
    fill_in_samples(path)
    book = load_workbook(path)
    book["人员"].cell(2, 2).value = "名" * 10_000
    book.save(path)
    with session_scope() as session, pytest.raises(ImportRefused) as refused:
        parse_workbook(session, path)
    [problem] = [p for p in refused.value.problems if p.column == "姓名"]
    assert problem.row == 2 and "64" in problem.reason and "10,000" in problem.reason


def test_a_suggestion_typed_with_a_huge_name_or_content_is_refused_not_crashed(settings, district):
    from lianchuang.models import Community
    from lianchuang.tasks.opinions.use_cases import add_opinion

    with session_scope() as session:
        name = session.scalars(select(Community.name).order_by(Community.code)).first()
    row = dict(community=name, source_kind="社区群众", channel="入户", submitter="王" * 65, contact="", content="长" * 10_001,
               date=f"{YEAR}-01-05")
    with pytest.raises(ImportRefused) as refused:
        add_opinion(YEAR, row)
    assert {p.column for p in refused.value.problems} >= {"提出人", "内容"}


def test_a_decompression_bomb_is_refused_within_seconds(settings, district, tmp_path):
    import time
    import zipfile

    from lianchuang.errors import UserError
    from lianchuang.tasks.cycle import ensure_cycle
    from lianchuang.tasks.opinions.sheets import import_opinions

    path = tmp_path / "bomb.xlsx"  # a sheet of 400 MB of blanks, about 400 KB packed
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for _ in range(400):
                sheet.write(b" " * (1 << 20))
    started = time.monotonic()
    with session_scope() as session, pytest.raises(UserError, match="解压后超过 300 MB"):
        import_opinions(session, ensure_cycle(session, YEAR).id, YEAR, path)
    assert time.monotonic() - started < 15


def test_a_hidden_sheet_is_never_read_silently(settings, district, tmp_path):
    from openpyxl import Workbook

    from lianchuang.errors import UserError
    from lianchuang.tasks.cycle import ensure_cycle
    from lianchuang.tasks.opinions.sheets import import_opinions

    book = Workbook()
    stale = book.active
    stale.title, stale.sheet_state = "意见建议", "hidden"
    stale.append(["社区", "来源类别", "渠道", "提出人", "联系方式", "内容", "日期"])
    book.create_sheet("新表").append(["社区"])
    book.active = 1
    book.save(tmp_path / "hidden.xlsx")
    with session_scope() as session, pytest.raises(UserError, match="隐藏"):
        import_opinions(session, ensure_cycle(session, YEAR).id, YEAR, tmp_path / "hidden.xlsx")


@pytest.mark.parametrize("encoding", ["big5", "gb18030", "utf-8-sig"])
def test_a_csv_in_big5_gbk_or_utf8_is_read_as_written_never_as_mojibake(settings, district, tmp_path, encoding):
    from lianchuang.models import Community, Opinion
    from lianchuang.tasks.cycle import ensure_cycle
    from lianchuang.tasks.opinions.sheets import import_opinions

    with session_scope() as session:
        code = session.scalars(select(Community.code).order_by(Community.code)).first()
    # English headers and a community code: Big5 has no simplified characters such as 区
    text = f"community,source kind,channel,submitter,contact,content,date\n{code},residents,door_to_door,陳大文,,建議加強夜間巡邏,{YEAR}-01-05\n"
    path = tmp_path / "o.csv"
    path.write_bytes(text.encode(encoding))
    with session_scope() as session:
        import_opinions(session, ensure_cycle(session, YEAR).id, YEAR, path)
    with session_scope() as session:
        assert session.scalars(select(Opinion.submitter_name)).all() == ["陳大文"]


def test_a_latin1_csv_is_refused_with_what_to_do(settings, district, tmp_path):
    from lianchuang.errors import UserError
    from lianchuang.tasks.cycle import ensure_cycle
    from lianchuang.tasks.opinions.sheets import import_opinions

    path = tmp_path / "o.csv"
    path.write_bytes("社区,内容\nJosé,café crème\n".encode("utf-8").replace("é".encode(), b"\xe9").replace("è".encode(), b"\xe8"))
    with session_scope() as session, pytest.raises(UserError, match="UTF-8 或 GBK"):
        import_opinions(session, ensure_cycle(session, YEAR).id, YEAR, path)
