"""Test data built through the same functions the app uses."""

import os
import shutil
from datetime import date

import pytest

from lianchuang.models.db import session_scope
from lianchuang.tasks.cycle import ensure_cycle
from lianchuang.tasks.demo.data import Scale, generate_org
from lianchuang.tasks.opinions import rules as opinions
from lianchuang.tasks.org import OrgData, load_org

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM and os.environ.get("LIANCHUANG_REQUIRE_BROWSER"):  # CI: a missing browser fails, never skips
    raise RuntimeError("chromium is required (apt-get install chromium fonts-noto-cjk)")
needs_chromium = pytest.mark.skipif(not CHROMIUM, reason="Debian's chromium is not installed")
PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 900}

SMALL = Scale(districts=1, streets_per_district=2, communities=4, task_units=20, members_per_community=8,
              post_holders=20, suggestions=24, tasks=30)
YEAR = 2026


def write_lines(path, lines, encoding="utf-8"):
    """A text file (CSV) of the given lines, as a coordinator's spreadsheet program would save it."""
    path.write_bytes("\n".join(lines).encode(encoding))
    return path


def build_district(scale: Scale = SMALL) -> OrgData:
    data = generate_org(scale)
    with session_scope() as session:
        load_org(session, data)
    return data


def add_opinion(session, community_id: int, content: str, **fields) -> int:
    """Record one suggestion and return its id."""
    from sqlalchemy import select

    from lianchuang.models import Opinion
    from lianchuang.models.enums import Channel, UnitKind

    cycle = ensure_cycle(session, YEAR)
    new = opinions.NewOpinion(community_id=community_id, source_kind=fields.get("source_kind", UnitKind.residents),
                              channel=fields.get("channel", Channel.door_to_door), content=content,
                              submitted_on=fields.get("submitted_on", date(YEAR, 1, 10)),
                              submitter_name=fields.get("submitter_name"), submitter_contact=fields.get("submitter_contact"))
    opinions.record_opinions(session, cycle.id, [new])
    return session.scalars(select(Opinion.id).where(Opinion.fingerprint == new.fingerprint())).one()


def add_task_per_community(year: int = YEAR, title: str = "便民服务", category: str = "services") -> list[str]:
    """One adopted task in every community, as the joint meetings would decide; returns the task codes."""
    from sqlalchemy import select

    from lianchuang.models import Community

    with session_scope() as session:
        cycle = ensure_cycle(session, year)
        return opinions.add_tasks(session, cycle.id, [opinions.NewTask(cid, category, title)
                                                      for cid in session.scalars(select(Community.id).order_by(Community.code))])


def fill_in_samples(path):
    """Copy each sheet's samples from the instructions sheet into the sheet itself, as a
    coordinator filling the template by the samples would; returns the path."""
    from openpyxl import load_workbook

    book = load_workbook(path)
    samples: dict[str, list] = {}
    current = None
    for row in book["填写说明"].iter_rows(values_only=True):
        title = str(row[0] or "")
        if title.endswith("表的填写示例（仅供参考，导入时不读取本页）："):
            current = samples.setdefault(title[1:title.index("”")], [])
        elif current is not None and any(value is not None for value in row):
            current.append(row)
        else:
            current = None
    for sheet, rows in samples.items():
        for row in rows[1:]:  # the first repeats the headers
            book[sheet].append(row)
    book.save(path)
    return path


TWO_DISTRICTS = Scale(districts=2, streets_per_district=2, communities=8, task_units=40, members_per_community=5,
                      post_holders=40, suggestions=20, tasks=24)


def build_province(year: int = YEAR) -> tuple[int, int, int]:
    """Two districts (梅列区 D01, 三元区 D02) of four communities, one task each, 50% due by June;
    every task reported in June, the first district's at 10% but one at 50%, the second's at 5% but
    one at 40%. Returns the cycle's id and the two districts' ids."""
    from sqlalchemy import select

    from lianchuang.models import Community, District, Milestone, Street, Task
    from lianchuang.tasks.progress import ranking as progress

    build_district(TWO_DISTRICTS)
    add_task_per_community(year)
    with session_scope() as session:
        cycle = ensure_cycle(session, year)
        first, second = session.scalars(select(District).order_by(District.code)).all()
        tasks = session.execute(select(Task, Street.district_id).join(Community, Community.id == Task.community_id)
                                .join(Street, Street.id == Community.street_id).order_by(Task.code)).all()
        reports = []
        for task, district_id in tasks:
            session.add(Milestone(task_id=task.id, title="过半", due_month=6, target_percent=50))
            best = task.code == min(t.code for t, d in tasks if d == district_id)
            percent = (50 if best else 10) if district_id == first.id else (40 if best else 5)
            reports.append(progress.NewReport(task.id, date(year, 6, 20), percent))
        session.flush()
        progress.record_reports(session, reports)
        return cycle.id, first.id, second.id


def open_evaluation_everywhere(session):
    """A task in every community and the evaluation opened (invitations, codes to those with email);
    returns (cycle, communities by code)."""
    from sqlalchemy import select

    from lianchuang.models import Community
    from lianchuang.models.enums import Category
    from lianchuang.tasks.evaluation import ballots

    cycle = ensure_cycle(session, YEAR)
    communities = session.scalars(select(Community).order_by(Community.code)).all()
    opinions.add_tasks(session, cycle.id, [opinions.NewTask(c.id, Category.services, f"{c.name}便民服务") for c in communities])
    ballots.open_evaluation(session, YEAR, cycle.id, [c.id for c in communities], date(YEAR, 12, 20))
    return cycle, communities


def through_commitments(session, cycle_id: int, community_ids: list[int], title: str = "{}任务") -> None:
    """Stages 2-3 with the app's own rules up to the statements and letters written: two tasks per
    community (title: a pattern for the category's name), assigned, carded, posts opened and
    claimed, the commitments prepared (their documents written)."""
    from lianchuang.models.enums import Category
    from lianchuang.tasks.commitments import rules as commitments
    from lianchuang.tasks.demo import simulation
    from lianchuang.tasks.division import assignment
    from lianchuang.tasks.division.cards import complete_task_cards, open_posts

    opinions.add_tasks(session, cycle_id, [opinions.NewTask(cid, category, title.format(category.label))
                                           for cid in community_ids for category in (Category.public_safety, Category.culture)])
    assignment.apply(session, assignment.propose(session, cycle_id, community_ids)[0])
    complete_task_cards(session, YEAR, cycle_id, community_ids)
    open_posts(session, cycle_id, community_ids, date(YEAR, 3, 1))
    simulation.claim_posts(session, cycle_id, YEAR, SMALL)
    commitments.prepare_commitments(session, YEAR, cycle_id, community_ids)
