"""Stage 4's notices: the monthly ranking (district, street and community versions, with charts),
overdue warnings and the request to report progress."""

from collections import defaultdict
from datetime import date
from pathlib import Path

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from lianchuang.models import Community, Milestone, MonthlyRanking, Person, Street, Task
from lianchuang.models.enums import Role, Stage
from lianchuang.tasks.outbox.drafts import Draft, to_district_coordinators
from lianchuang.tasks.progress.integrity import JUMP_POINTS, stored_findings
from lianchuang.tasks.progress.ranking import (
    district_community_ids,
    latest_percent_by_month,
    nearest_milestone_month,
    only_district,
    overdue_lists,
    ranking_corrections,
    ranking_rows,
    superseded_rows,
    task_status_query,
)
from lianchuang.tasks.rules import rules_for


def ranking_drafts(session: Session, year: int, cycle_id: int, month: int, district_id: int | None = None,
                   overdue: dict | None = None) -> list[Draft]:
    """A district's month's ranking to its district, street and community coordinators, with their
    charts drawn. `overdue` may hold the month's overdue lists of every district, read once."""
    district_id = only_district(session, district_id)
    rows = session.execute(
        select(MonthlyRanking, Community.name, Community.street_id, Street.name, Street.district_id)
        .join(Community, MonthlyRanking.community_id == Community.id).join(Street, Community.street_id == Street.id)
        .where(MonthlyRanking.cycle_id == cycle_id, MonthlyRanking.month == month, Street.district_id == district_id)
        .order_by(MonthlyRanking.rank_in_district, Community.code)).all()
    if not rows:
        return []
    corrections = ranking_corrections(session, cycle_id, district_id).get(month)
    correction = corrections[-1] if corrections else None
    version = f"-更正{correction.number}" if correction else ""  # a correction is a new notice to the same people
    charts = ranking_charts(year, month, rows, version)
    before = superseded_rows(session, correction.id) if correction else {}
    in_district = district_community_ids(district_id)  # each query reads the district's rows only
    previous = dict(session.execute(select(MonthlyRanking.community_id, MonthlyRanking.rank_in_street).where(
        MonthlyRanking.cycle_id == cycle_id, MonthlyRanking.month == month - 1, MonthlyRanking.community_id.in_(in_district))).all())
    overdue = overdue if overdue is not None else overdue_lists(session, cycle_id, year, month, district_id)
    def line(r, community):
        return [r.rank_in_district, r.rank_in_street, community, r.score, r.progress_score, r.on_time_score,
                r.tasks, r.overdue_tasks]
    rules = rules_for(session, district_id, year)  # locked since the district's first ranking: the one its rows name
    findings = stored_findings(session, cycle_id, district_id, month)  # the district office's 数据核查
    common = dict(year=year, month=month, chart=True,
                  weights=dict(progress=rules.progress_weight, on_time=rules.on_time_weight, version=rules.version),
                  jump_points=JUMP_POINTS,
                  correction=correction and dict(number=correction.number, reason=correction.reason,
                                                 corrected_on=correction.corrected_on.isoformat()))
    drafts = []
    coordinators = session.scalars(select(Person).where(
        (Person.district_id == district_id)
        | Person.street_id.in_(select(Street.id).where(Street.district_id == district_id))
        | Person.community_id.in_(in_district),
        Person.role.in_([Role.district_coordinator, Role.street_coordinator, Role.community_coordinator]))
        .order_by(Person.code)).all()
    streets = {street_id: street for _, _, street_id, street, _ in rows}
    # Grouped once, so each coordinator's table is a lookup (scanning all rows per person was quadratic).
    by_district, by_street, by_community = defaultdict(list), defaultdict(list), {}
    for row in rows:
        by_district[row[4]].append(row)
        by_street[row[2]].append(row)
        by_community[row[0].community_id] = row
    street_tables = {sid: [line(r[0], r[1]) for r in sorted(members, key=lambda r: r[0].rank_in_street)]
                     for sid, members in by_street.items()}
    for person in coordinators:
        if person.role == Role.district_coordinator:
            # The district's table names each community's street: its 街道内名次 means nothing without it.
            context = dict(scope="district", scope_name="全区",
                           rows=[line(r[0], r[1])[:3] + [r[3]] + line(r[0], r[1])[3:] for r in by_district[person.district_id]],
                           audit=findings)
            chart = charts.get(("district", person.district_id))
        elif person.role == Role.street_coordinator:
            context = dict(scope="street", scope_name=streets.get(person.street_id, ""),
                           rows=street_tables.get(person.street_id, []))
            chart = charts.get(("street", person.street_id))
        else:
            if person.community_id not in by_community:
                continue
            own, name, street_id = by_community[person.community_id][:3]
            context = dict(scope="community", scope_name=name, community=name, overdue=overdue[own.community_id],
                           own=dict(score=own.score, street=streets[street_id], rank_in_street=own.rank_in_street,
                                    rank_in_district=own.rank_in_district, previous_rank=previous.get(own.community_id),
                                    before=_before(before.get(own.community_id))),
                           rows=street_tables[street_id])
            chart = charts.get(("street", street_id))
        if not context["rows"]:
            continue
        drafts.append(Draft.to_person(person, year, Stage.progress, "ranking", period=f"{year}-{month:02d}{version}",
                                      context=common | context | dict(chart=chart is not None), image_path=chart))
    return drafts


def _before(row) -> dict | None:
    return row and dict(score=row.score, rank_in_street=row.rank_in_street, rank_in_district=row.rank_in_district)


def ranking_charts(year: int, month: int, rows, version: str = "") -> dict[tuple[str, int], str]:
    """One PNG per street (its communities' scores) and per district (its streets' mean scores),
    written once to the data folder and shared by every email that shows it (a correction's apart)."""
    from lianchuang.settings import get_settings
    from lianchuang.tasks.progress.charts import draw_charts

    folder = get_settings().data_dir / "charts" / f"{year}-{month:02d}{version}"
    folder.mkdir(parents=True, exist_ok=True)
    streets, districts = defaultdict(list), defaultdict(lambda: defaultdict(list))
    for ranking, community, street_id, street, district_id in rows:
        streets[(street_id, street)].append((community, ranking.score))
        districts[district_id][street].append(ranking.score)
    charts, jobs = {}, []
    for (street_id, street), bars in streets.items():
        path = folder / f"street-{street_id}.png"
        charts[("street", street_id)] = str(path)
        jobs.append((str(path), f"{street} {year}年{month}月 社区得分", sorted(bars, key=lambda b: -b[1])))
    for district_id, by_street in districts.items():
        path = folder / f"district-{district_id}.png"
        charts[("district", district_id)] = str(path)
        means = sorted(((name, sum(s) / len(s)) for name, s in by_street.items()), key=lambda b: -b[1])
        jobs.append((str(path), f"{year}年{month}月 各街道社区平均得分", means))
    draw_charts([job for job in jobs if not Path(job[0]).exists()])  # a re-run reuses the month's charts
    return charts


def overdue_drafts(session: Session, year: int, cycle_id: int, through_month: int, community_ids: list[int] | None = None,
                   week: str = "") -> list[Draft]:
    """One letter per responsible leader and liaison (of these communities' tasks) listing every task
    of theirs behind its plan: its current progress (the latest report, whatever month it is for)
    below the target of its last step due by the end of `through_month`. Keyed by `week`, so the
    weekly reminder sends each person one letter a week at most, and none once they catch up."""
    reached = nearest_milestone_month(through_month, reached=True)
    actual = func.coalesce(latest_percent_by_month(13), 0)  # month 13: every report, after the year's too
    rows = session.execute(
        select(Task.code, Task.title, Milestone.due_month, Milestone.title, Milestone.target_percent, actual, Community.name,
               Task.responsible_person_id, Task.liaison_person_id)
        .join(reached, reached.c.task_id == Task.id)
        .join(Milestone, and_(Milestone.task_id == Task.id, Milestone.due_month == reached.c.month))
        .join(Community, Community.id == Task.community_id)
        .where(Task.cycle_id == cycle_id, actual < Milestone.target_percent,
               *([] if community_ids is None else [Task.community_id.in_(community_ids)]))
        .order_by(Task.code)).all()
    late = defaultdict(list)
    for code, title, month, step, planned, percent, community, *owners in rows:
        for person_id in dict.fromkeys(owners):
            if person_id:
                late[person_id].append([code, community, title, f"{month}月：{step}", f"{planned}%", f"{percent}%"])
    people = session.scalars(select(Person).where(Person.id.in_(late)).order_by(Person.code))
    return [Draft.to_person(person, year, Stage.progress, "overdue", period=f"late-{week or through_month}",
                            context=dict(year=year, through_month=through_month, tasks=late[person.id]))
            for person in people]


def _within(status, community_ids: list[int] | None) -> list:
    """The condition keeping a task status query's rows to these communities (none: all)."""
    return [] if community_ids is None else [status.c.community_id.in_(community_ids)]


def reminder_drafts(session: Session, year: int, cycle_id: int, month: int, community_ids: list[int] | None = None) -> list[Draft]:
    """Ask each task's liaison (in these communities) to report the month's progress by the 25th,
    listing their tasks with the last reported and the planned percent (the plan as of the month before)."""
    if month > 12:
        return []
    status = task_status_query(cycle_id, year, max(month - 1, 1)).subquery()
    rows = session.execute(select(status.c.code, status.c.title, status.c.actual, status.c.planned, Task.liaison_person_id,
                                  Community.name).join(Task, Task.id == status.c.id)
                           .join(Community, Community.id == status.c.community_id)
                           .where(Task.liaison_person_id.is_not(None), *_within(status, community_ids))
                           .order_by(status.c.code)).all()
    tasks = defaultdict(list)
    for code, title, actual, planned, liaison_id, community in rows:
        tasks[liaison_id].append((community, dict(code=code, title=title, percent=actual, planned=round(planned))))
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(tasks)))}
    return [Draft.to_person(people[pid], year, Stage.progress, "progress_reminder", period=f"{year}-{month:02d}",
                            context=dict(year=year, month=month, community=items[0][0], report_by=date(year, month, 25),
                                         tasks=[task for _, task in items]))
            for pid, items in sorted(tasks.items())]


def held_drafts(session: Session, year: int, month: int, reason: str, district_ids: list[int] | None = None) -> list[Draft]:
    """To the coordinators of the districts: the month's ranking was held, not published, and why."""
    return to_district_coordinators(session, year, Stage.progress, "ranking_held", period=f"{year}-{month:02d}",
                                    context=dict(year=year, month=month, reason=reason or "—"), district_ids=district_ids)


def ranking_chat_messages(session: Session, year: int, cycle_id: int, month: int, district_id: int | None = None) -> list[dict]:
    """A district's month's ranking for the group chats: the district's groups get its top and bottom
    three, a street's group its communities in order, a community's group its own place; the email
    with the whole table and the chart stays the record."""
    from lianchuang.tasks.outbox.chats import channels_for

    rows = ranking_rows(session, cycle_id, month, only_district(session, district_id))
    if not rows:
        return []
    title = f"{year}年{month}月社区工作任务进度排名"

    def line(row, rank_key="rank_in_district") -> str:
        return f"{row[rank_key]}. {row['community']}（{row['street']}）{row['score']:.1f}分" + (
            f"，逾期{row['overdue_tasks']}项" if row["overdue_tasks"] else "")

    texts = {rows[0]["district_code"]: "\n".join(["**前三名**", *map(line, rows[:3]), "", "**后三名**", *map(line, rows[-3:]), "",
                                                f"共{len(rows)}个社区，完整排名和图表见邮件。"])}
    for street_code in {r["street_code"] for r in rows}:
        members = sorted((r for r in rows if r["street_code"] == street_code), key=lambda r: r["rank_in_street"])
        texts[street_code] = "\n".join([f"**{members[0]['street']}**（街道内名次）", *(line(r, "rank_in_street") for r in members),
                                        "", "完整排名和图表见邮件。"])
    for row in rows:
        texts[row["community_code"]] = (f"**{row['community']}**：全区第{row['rank_in_district']}名（共{len(rows)}个社区），"
                                        f"街道内第{row['rank_in_street']}名，{row['score']:.1f}分"
                                        + (f"，逾期任务{row['overdue_tasks']}项，请抓紧。" if row["overdue_tasks"] else "。"))
    return [dict(key=f"chat:ranking:{year}-{month:02d}:{channel.id}", channel_id=channel.id, year=year, title=title,
                 markdown=texts[channel.place_code], mention_phones="") for channel in channels_for(session, list(texts))]


def overdue_chat_messages(session: Session, year: int, cycle_id: int, month: int,
                          community_ids: list[int] | None = None) -> list[dict]:
    """The month's missed milestones for each street's group chat, @-ing the responsible people
    where the platform @s by phone (DingTalk)."""
    from lianchuang.tasks.outbox.chats import channels_for

    status = task_status_query(cycle_id, year, month).subquery()
    rows = session.execute(
        select(Street.code, Street.name, Community.name, status.c.code, status.c.title, Milestone.title, Milestone.target_percent,
               status.c.actual, Person.phone)
        .join(Milestone, and_(Milestone.task_id == status.c.id, Milestone.due_month == month))
        .join(Task, Task.id == status.c.id).join(Community, Community.id == status.c.community_id)
        .join(Street, Street.id == Community.street_id).outerjoin(Person, Person.id == Task.responsible_person_id)
        .where(status.c.actual < Milestone.target_percent, *_within(status, community_ids))
        .order_by(Street.code, Community.code, status.c.code)).all()
    by_street = defaultdict(list)
    for row in rows:
        by_street[row[0]].append(row)
    messages = []
    for channel in channels_for(session, list(by_street)):
        missed = by_street[channel.place_code]
        lines = [f"- {community} {code} {title}：{milestone}计划{planned:.0f}%，实际{actual:.0f}%"
                 for _, _, community, code, title, milestone, planned, actual, _ in missed]
        messages.append(dict(key=f"chat:overdue:{year}-{month:02d}:{channel.id}", channel_id=channel.id, year=year,
                             title=f"【逾期提醒】{missed[0][1]}{month}月有{len(missed)}项任务节点未完成",
                             markdown="\n".join(lines + ["", "请责任人抓紧推进，并按时报送进度。"]),
                             mention_phones=",".join(dict.fromkeys(r[-1] for r in missed if r[-1]))))
    return messages
