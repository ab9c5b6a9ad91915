"""Stages 1-3 only through the command line, as the README writes it, on a district of our own
built from the org template: 2 streets, 5 communities, units of every kind, people of every role,
some without email. org import → opinions open/template/import → deliberate agenda/import →
assign propose/export/import → assign run → tasks check → commitments run → sign → commitments
run → board build."""

import json
import os
import subprocess
import sys

from openpyxl import load_workbook

YEAR = 2027
STREETS = [("S1", "东湖街道"), ("S2", "西岭街道")]
COMMUNITIES = [("S1C1", "桂园社区", "S1"), ("S1C2", "竹林社区", "S1"), ("S1C3", "松风社区", "S1"),
               ("S2C1", "梅溪社区", "S2"), ("S2C2", "兰亭社区", "S2")]
KINDS = ["挂点领导", "挂点单位", "驻区单位", "民间组织", "群团组织", "社区群众"]


def lianchuang(settings, server, *args, check=True, today=f"{YEAR}-01-10"):
    env = os.environ | {"LIANCHUANG_DATA_DIR": str(settings.data_dir), "LIANCHUANG_DATABASE_URL": settings.db_url,
                        "LIANCHUANG_TODAY": today, "PREFECT_API_URL": server, "COLUMNS": "80"}
    result = subprocess.run([sys.executable, "-m", "lianchuang.cli", *args], capture_output=True, text=True, env=env, timeout=300)
    assert "Traceback" not in result.stderr, result.stderr
    if check:
        assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result


def fill_org(path):
    book = load_workbook(path)
    for code, name in STREETS:
        book["街道"].append([code, name, "D1", "青山区"])
    people = book["人员"]
    people.append(["P-D", "周区长", "区级联络人", "", "", "青山区", "", "zhou@qs.example.cn", ""])
    for code, name in STREETS:
        people.append([f"P-{code}", f"{name[:2]}联络人", "街道联络人", "", name, "", "", f"{code.lower()}@qs.example.cn", ""])
    for number, (code, name, street) in enumerate(COMMUNITIES):
        book["社区"].append([code, name, street])
        units = book["单位"]
        units.append([f"{code}-DZB", f"{name}党支部", "社区党组织", code, "", "2"])
        units.append([f"{code}-JWH", f"{name}居委会", "社区居委会", code, "服务联手", "3"])  # nobody registered
        units.append([f"{code}-GD", f"区{number + 1}号挂点局", "挂点单位", name, "党建联抓", "2"])
        units.append([f"{code}-ZQ", f"{name[:2]}供电所", "驻区单位", code, "治安联防、卫生联管", "3"])
        units.append([f"{code}-MJ", f"{name[:2]}志愿者协会", "民间组织", code, "服务联手、文体活动联谊", "2"])
        units.append([f"{code}-QT", f"{name[:2]}团支部", "群团组织", code, "文体活动联谊", "2"])
        mail = lambda who: f"{who}.{code.lower()}@qs.example.cn"
        people.append([f"{code}-01", f"{name[:2]}书记", "社区联络人", code, "", "", f"{code}-DZB", mail("sj"), ""])
        people.append([f"{code}-02", f"{name[:2]}挂点领导", "挂点领导", code, "", "", "", mail("gd") if number % 2 else "", "13900000001"])
        people.append([f"{code}-03", f"{name[:2]}局长", "单位负责人", code, "", "", f"{code}-GD", mail("jz"), ""])
        people.append([f"{code}-04", f"{name[:2]}所长", "单位负责人", code, "", "", f"{code}-ZQ", mail("sz"), ""])
        people.append([f"{code}-05", f"{name[:2]}志愿联络员", "联络员", code, "", "", f"{code}-MJ", "", "13900000002"])
        people.append([f"{code}-06", f"{name[:2]}团书记", "单位负责人", code, "", "", f"{code}-QT", "", ""])
        people.append([f"{code}-07", f"{name[:2]}居民代表", "居民代表", code, "", "", "", mail("jm"), ""])
        people.append([f"{code}-08", f"{name[:2]}楼栋长", "楼栋长", code, "", "", "", "", "13900000003"])
        people.append([f"{code}-09", f"{name[:2]}党员", "在职党员", code, "", "", "", mail("dy"), ""])
        people.append([f"{code}-10", f"{name[:2]}积极分子", "积极分子", code, "", "", "", "", ""])
    book.save(path)


def fill_opinions(path):
    book = load_workbook(path)
    sheet = book["意见建议"]
    ideas = ["加强夜间巡逻", "开设四点半课堂", "增设健身器材", "整治占道经营", "组织老年人体检", "维修楼道路灯"]
    for code, name, _ in COMMUNITIES:
        for index, kind in enumerate(KINDS):
            contact = f"s{index}.{code.lower()}@qs.example.cn" if index % 2 == 0 else ""
            sheet.append([name, kind, "入户" if kind == "社区群众" else "党建联席会", f"{name[:2]}{kind}", contact,
                          f"建议{name[:2]}{ideas[index]}", f"{YEAR}-01-08"])
    book.save(path)


def decide(path):
    book = load_workbook(path)
    agenda = book["议题"]
    for row in agenda.iter_rows(min_row=2):
        content = row[4].value
        if "占道" in content:
            row[7].value, row[11].value = "不采纳", "属城管职责，已转交街道城管中队"
        else:
            row[7].value = "采纳"
            row[8].value = "治安联防" if "巡逻" in content else "文体活动联谊" if "课堂" in content or "健身" in content else "服务联手"
    for row in book["会议"].iter_rows(min_row=2):
        if row[0].value == "会议日期":
            row[1].value = f"{YEAR}-01-09"
    book.save(path)


def test_a_coordinator_walks_stages_one_to_three_from_the_command_line(settings, prefect_server, tmp_path):
    walk_stages_one_to_three(lambda *args, **kw: lianchuang(settings, prefect_server, *args, **kw), settings, tmp_path)

    from sqlalchemy import func, select

    from lianchuang.models import Commitment, Notice, Opinion, Task
    from lianchuang.models.db import session_scope

    with session_scope() as session:
        contacts = set(session.scalars(select(Opinion.submitter_contact).where(Opinion.submitter_contact.is_not(None))))
        answered = set(session.scalars(select(Notice.recipient_email).where(Notice.template == "feedback")))
        assert contacts and contacts <= answered  # every submitter who left an address heard back
        assert session.scalar(select(func.count()).where(Task.responsible_person_id.is_(None))) == 0
        assert session.scalar(select(func.count()).where(Commitment.published_on.is_(None))) == 0
        solicited = set(session.scalars(select(Notice.recipient_name).where(Notice.template == "solicitation")))
    for code, name, _ in COMMUNITIES:  # each kind's spokesperson, with or without email
        assert {f"{name[:2]}挂点领导", f"{name[:2]}局长", f"{name[:2]}所长", f"{name[:2]}志愿联络员", f"{name[:2]}团书记",
                f"{name[:2]}居民代表", f"{name[:2]}楼栋长"} <= solicited


def walk_stages_one_to_three(run, settings, tmp_path):
    """Stages 1-3 of YEAR as the README writes them, checking what each command says."""
    org = tmp_path / "组织架构.xlsx"
    run("org", "template", "-o", str(org))
    fill_org(org)
    imported = run("org", "import", str(org))
    assert "社区 5" in imported.stdout and "下一步" in imported.stdout

    opened = run("opinions", "open", "--year", str(YEAR))
    assert "征求意见公告" in opened.stdout
    sheet = tmp_path / "征集表.xlsx"
    run("opinions", "template", "--year", str(YEAR), "-o", str(sheet))
    fill_opinions(sheet)
    assert "新增 30 条" in run("opinions", "import", str(sheet), "--year", str(YEAR)).stdout
    report = json.loads(run("opinions", "report", "--year", str(YEAR), "--json").stdout)
    assert all(row["kinds_not_asked"] == [] and row["kinds_not_heard"] == [] for row in report), report

    for code, name, _ in COMMUNITIES:
        agenda = tmp_path / f"议题-{code}.xlsx"
        assert "待议建议 6 条" in run("deliberate", "agenda", "-c", name, "--year", str(YEAR), "-o", str(agenda)).stdout
        decide(agenda)
        decided = run("deliberate", "import", str(agenda), "--year", str(YEAR))
        assert "采纳 5 条" in decided.stdout and "不采纳 1 条" in decided.stdout
        assert "下一步" in decided.stdout and "lianchuang assign propose --year" in decided.stdout  # says what comes next

    assert "已推荐 25 项任务的分工" in run("assign", "propose", "--year", str(YEAR)).stdout
    division = tmp_path / "分工表.xlsx"
    run("assign", "export", "--year", str(YEAR), "-o", str(division))
    book = load_workbook(division)
    first = next(book["分工"].iter_rows(min_row=2))
    first[4].value = "桂园志愿者协会"  # the meeting moves one task to another unit, by name
    book.save(division)
    assert "改动 1 项" in run("assign", "import", str(division), "--year", str(YEAR)).stdout
    run("assign", "run", "--year", str(YEAR))
    checked = run("tasks", "check", "--year", str(YEAR))
    assert "所有任务卡都已完整" in checked.stdout

    prepared = run("commitments", "run", "--year", str(YEAR))
    assert "新生成责任状/承诺书" in prepared.stdout and "新公开承诺的社区" not in prepared.stdout
    for code, name, _ in COMMUNITIES:
        assert "已记录签订" in run("commitments", "sign", "-c", name, "--by", f"{name[:2]}书记", "--all", "--year", str(YEAR)).stdout
    published = run("commitments", "run", "--year", str(YEAR))
    assert "新公开承诺的社区" in published.stdout
    listed = run("commitments", "list", "-c", "桂园社区", "--year", str(YEAR))
    assert "unit:" not in listed.stdout and "未签" not in listed.stdout
    assert "公开栏已生成" in run("board", "build", "--year", str(YEAR)).stdout
    board = settings.board_dir / str(YEAR)
    assert all((board / f"{code}.html").exists() for code, _, _ in COMMUNITIES)
