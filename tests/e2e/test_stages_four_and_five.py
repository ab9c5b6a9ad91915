"""Stages 4-5 only through the command line, as the README writes it, on the district of our own
that stages 1-3 built (2 streets, 5 communities, 5 tasks each), moving the clock through 2027 and
into January 2028: monthly reports imported early and late, a month refused for lack of data, a
same-day correction of a report and a public correction of a published month, ballots from paper
slips and by code, the evaluation closed in January, the award. Every published figure is checked
against values computed here by hand from the rules the README states."""

import json
import re

from openpyxl import load_workbook
from test_stages_one_to_three import COMMUNITIES, YEAR, lianchuang, walk_stages_one_to_three

# The cards' default milestones (assign run): 25% by March, 50% by June, 75% by September, 100% by December.
MILESTONES = [(3, 25), (6, 50), (9, 75), (12, 100)]
POINTS = {"优秀": 95, "良好": 80, "一般": 65, "较差": 40}


def planned_and_due(month: int) -> tuple[float, int]:
    """The README's plan: growing evenly from 0% at the start of the year to each milestone."""
    before_month, before_percent = 0, 0
    for due_month, percent in MILESTONES:
        if month <= due_month:
            planned = before_percent + (percent - before_percent) * (month - before_month) / (due_month - before_month)
            return planned, (percent if month == due_month else before_percent)
        before_month, before_percent = due_month, percent
    return 100.0, 100


def score_by_hand(percents: list[int], month: int) -> float:
    planned, due = planned_and_due(month)
    progress = 100 * sum(min(p, planned) for p in percents) / (planned * len(percents))
    on_time = 100 * sum(1 for p in percents if p >= due) / len(percents)
    return round(0.7 * progress + 0.3 * on_time, 1)


def fill_progress(path, percents: dict[str, int], month: str | None = None) -> None:
    """Fill the progress template: percent per community code prefix (task codes are <community>-NNN)."""
    book = load_workbook(path)
    sheet = book["进度"]
    for row in sheet.iter_rows(min_row=2):
        community = (row[0].value or "").split("-")[0]
        if community in percents:
            row[4].value = percents[community]
            if month:
                row[10].value = month
    book.save(path)


def emailed_codes(settings, community: str) -> list[tuple[str, str]]:
    """(group, code) of each evaluation invitation delivered to the Maildir for the community, as its
    evaluators read them in their mailboxes."""
    import email
    from email import policy

    found = []
    for path in (settings.maildir / "new").glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if "民主评议" in message["Subject"] and community in message["Subject"]:
            text = message.get_body(("plain",)).get_content()
            code = re.search(r"评议码：((?:[2-9A-Z]{4}-){3}[2-9A-Z])", text)
            if code:
                found.append((re.search(r"作为“(.+?)”代表", text).group(1), code.group(1)))
    return found


def by_community(rows: list[dict]) -> dict[str, dict]:
    return {row["community"]: row for row in rows}


def test_a_coordinator_walks_stages_four_and_five_from_the_command_line(settings, prefect_server, tmp_path):
    run = lambda *args, today, **kw: lianchuang(settings, prefect_server, *args, today=today, **kw)
    walk_stages_one_to_three(lambda *args, **kw: lianchuang(settings, prefect_server, *args, **kw), settings, tmp_path)
    names = {code: name for code, name, _ in COMMUNITIES}

    # January, reported on 3 February from the template (the month defaults to January); 兰亭 is late.
    sheet = tmp_path / "进度-1月.xlsx"
    run("progress", "template", "--year", str(YEAR), "-o", str(sheet), today=f"{YEAR}-02-03")
    january = {"S1C1": 10, "S1C2": 5, "S1C3": 4, "S2C1": 10}
    fill_progress(sheet, january)
    assert "新增 20 条" in run("progress", "import", str(sheet), "--year", str(YEAR), today=f"{YEAR}-02-03").stdout
    refused = run("rank", "--month", f"{YEAR}-01", today=f"{YEAR}-02-03", check=False)
    assert refused.returncode != 0 and "兰亭社区" in refused.stdout + refused.stderr and "--yes" in refused.stdout + refused.stderr
    late = tmp_path / "进度-兰亭.xlsx"
    run("progress", "template", "--year", str(YEAR), "-c", "兰亭社区", "-o", str(late), today=f"{YEAR}-02-06")
    fill_progress(late, {"S2C2": 10}, month=f"{YEAR}-01")
    run("progress", "import", str(late), "--year", str(YEAR), today=f"{YEAR}-02-06")
    january["S2C2"] = 10
    published = by_community(json.loads(run("rank", "--month", f"{YEAR}-01", "--send", "--json", today=f"{YEAR}-02-06").stdout))
    for code, percent in january.items():
        assert published[names[code]]["score"] == score_by_hand([percent] * 5, 1), code
    assert [published[names[c]]["rank_in_district"] for c in ("S1C1", "S1C2", "S1C3")] == [1, 4, 5]

    # One of 竹林's reports was typed wrong: the day's report is replaced only with a reason,
    # then January is corrected in public.
    wrong = run("progress", "add", "S1C2-001", "--percent", "8", "--month", "1", "--date", f"{YEAR}-02-03",
                "--year", str(YEAR), today=f"{YEAR}-02-10", check=False)
    assert wrong.returncode != 0 and "--reason" in wrong.stdout + wrong.stderr
    assert "已更正这一天的报告" in run("progress", "add", "S1C2-001", "--percent", "8", "--month", "1", "--date", f"{YEAR}-02-03",
                                 "--reason", "录入错误，应为8%", "--year", str(YEAR), today=f"{YEAR}-02-10").stdout
    reason = "竹林社区1月进度录入有误，已核实更正"
    corrected = by_community(json.loads(run("rank", "--month", f"{YEAR}-01", "--correct", "--reason", reason, "--send",
                                            "--json", today=f"{YEAR}-02-10").stdout))
    assert corrected["竹林社区"]["score"] == score_by_hand([8, 5, 5, 5, 5], 1) != published["竹林社区"]["score"]
    again = run("rank", "--month", f"{YEAR}-01", "--correct", "--reason", reason, "--send", today=f"{YEAR}-02-10", check=False)
    said = again.stdout + again.stderr  # the same correction twice: refused once, in words, nothing sent
    assert again.returncode != 0 and said.count("没有变化") == 1 and "| ERROR" not in said, said
    page = (settings.board_dir / str(YEAR) / "S1C2.html").read_text(encoding="utf-8")
    assert "1月（已更正）" in page and reason in page and f"更正前：得分 {published['竹林社区']['score']}" in page

    # February, reported early (on 26 February, for February), ranked on 6 March.
    sheet = tmp_path / "进度-2月.xlsx"
    run("progress", "template", "--year", str(YEAR), "-o", str(sheet), today=f"{YEAR}-02-26")
    february = {"S1C1": 20, "S1C2": 20, "S1C3": 10, "S2C1": 20, "S2C2": 20}
    fill_progress(sheet, february, month="2月")
    run("progress", "import", str(sheet), "--year", str(YEAR), today=f"{YEAR}-02-26")
    ranked = by_community(json.loads(run("rank", "--month", f"{YEAR}-02", "--json", today=f"{YEAR}-03-06").stdout))
    for code, percent in february.items():
        assert ranked[names[code]]["score"] == score_by_hand([percent] * 5, 2), code

    # March: only 桂园 reports; published anyway with --yes. The others count their February
    # figures against March's milestone (25%): overdue.
    sheet = tmp_path / "进度-3月.xlsx"
    run("progress", "template", "--year", str(YEAR), "-c", "桂园社区", "-o", str(sheet), today=f"{YEAR}-04-02")
    fill_progress(sheet, {"S1C1": 30})
    run("progress", "import", str(sheet), "--year", str(YEAR), today=f"{YEAR}-04-02")
    printed = run("rank", "--month", f"{YEAR}-03", "--yes", today=f"{YEAR}-04-06").stdout
    assert "东湖街道 街道内排名" in printed and "西岭街道 街道内排名" in printed
    march = by_community(json.loads(run("rank", "--month", f"{YEAR}-03", "--json", today=f"{YEAR}-04-06").stdout))
    for code, percent in {**february, "S1C1": 30}.items():
        assert march[names[code]]["score"] == score_by_hand([percent] * 5, 3), code

    # The evaluation: paper slips for 桂园, entered from a sheet; the head votes by code.
    opening = run("evaluate", "open", "--year", str(YEAR), today=f"{YEAR}-12-20")
    opened = opening.stdout
    # 桂园's two stationed units can never count (a secret group needs 3): said when the evaluation opens
    assert "桂园社区的“驻区单位”只有 2 人，少于计入得分所需的 3 人" in opening.stderr
    assert "lianchuang evaluate slips" in opened  # people without email vote on paper slips: the command says so
    listed = run("evaluate", "slips", "-c", "桂园社区", today=f"{YEAR}-12-20").stdout
    slips = re.findall(r"评议主体：(\S+)　　评议码：<strong class=\"code\">([\w-]+)</strong>",
                       (settings.documents_dir / str(YEAR) / "评议票" / "S1C1.html").read_text(encoding="utf-8"))
    emailed = emailed_codes(settings, "桂园社区")  # the invitations' codes still work: slips are for the others
    assert "桂园社区" in listed and len(slips) >= 1 and len(slips) + len(emailed) == 6
    codes = {}
    for group, code in slips + emailed:
        codes.setdefault(group, []).append(code)
    ballots = tmp_path / "选票录入表.xlsx"
    run("evaluate", "template", "-c", "桂园社区", "-o", str(ballots), today=f"{YEAR}-12-21")
    book = load_workbook(ballots)
    sheet = book["选票"]
    tasks = [row[1].value for row in sheet.iter_rows(min_row=2) if row[1].value]
    sheet.delete_rows(2, sheet.max_row)
    grades = {codes["驻区单位"][0]: "良好", codes["驻区单位"][1]: "优秀", codes["居民代表"][0]: "较差"}
    for code, grade in grades.items():
        for task in tasks:
            sheet.append([code, task, "", grade])
    book.save(ballots)
    assert "已录入 3 人的选票" in run("evaluate", "import", str(ballots), today=f"{YEAR}-12-21").stdout
    again = run("evaluate", "import", str(ballots), today=f"{YEAR}-12-21")  # the same sheet twice: the README's promise
    assert again.returncode == 0 and "已经录入过" in again.stdout and "没有新增" in again.stdout, again.stderr
    run("evaluate", "vote", codes["联席会负责人"][0], *[f"{task}=优秀" for task in tasks], today=f"{YEAR}-12-22")

    closed = run("evaluate", "close", today=f"{YEAR + 1}-01-05").stdout  # January: the year under evaluation is 2027
    assert "异议" in closed and "opinions run" not in closed
    # Counted: the head alone (open ballot, quorum 1). The two stationed units and the single resident
    # representative are secret groups under 3 people: counted, their grades could be read back.
    expected_task = POINTS["优秀"]
    data = settings.board_dir / str(YEAR) / "data"
    results = json.loads((data / "results.json").read_text(encoding="utf-8"))
    rated = [r for r in results if r["task_code"].startswith("S1C1-")]
    assert len(rated) == 5 and all(abs(r["score"] - expected_task) <= 0.05 for r in rated)
    assert all(r["score"] is None for r in results if not r["task_code"].startswith("S1C1-"))

    during = run("award", today=f"{YEAR + 1}-01-06", check=False)
    assert during.returncode != 0 and "异议" in during.stdout + during.stderr
    awards = by_community(json.loads(run("award", "--yes", "--json", today=f"{YEAR + 1}-01-06").stdout))
    assert sum(a["funding_yuan"] for a in awards.values()) == 500_000
    progress_mean = (corrected["桂园社区"]["score"] + ranked["桂园社区"]["score"] + march["桂园社区"]["score"]) / 3
    evaluation = sum(r["score"] for r in rated) / len(rated)  # no 党建联抓 task: innovation takes the evaluation figure
    assert abs(awards["桂园社区"]["year_score"] - (0.5 * evaluation + 0.3 * progress_mean + 0.2 * evaluation)) <= 0.05

    from sqlalchemy import select

    from lianchuang.models import Notice, Opinion
    from lianchuang.models.db import session_scope

    with session_scope() as session:
        subjects = session.scalars(select(Notice.subject).where(Notice.template == "ranking")).all()
        told = set(session.scalars(select(Notice.recipient_email).where(Notice.template == "fulfilment")))
        adopted = set(session.scalars(select(Opinion.submitter_contact).where(Opinion.task_id.is_not(None),
                                                                              Opinion.submitter_contact.is_not(None))))
        summaries = session.scalars(select(Notice.recipient_name).where(Notice.template == "award_summary")).all()
    corrections = [s for s in subjects if "更正" in s]
    assert len(corrections) == sum(1 for s in subjects if f"{YEAR}年1月" in s and "更正" not in s) > 0  # to the same people
    assert adopted and adopted <= told  # every submitter who left an address heard what became of it
    assert summaries == ["周区长"]
