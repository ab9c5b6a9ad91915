"""Ballot secrecy against whoever holds the database, and codes as people type them: no time or
order links the register to the ballot box, a small group's grades cannot be read back from a
published score, and a code tells nothing about whose it is."""

import time
import zipfile
from datetime import date

import pytest
from factories import YEAR, open_evaluation_everywhere
from openpyxl import load_workbook
from sqlalchemy import func, select

from lianchuang.errors import ImportRefused, UserError
from lianchuang.models import Ballot, Community, Evaluator, Task
from lianchuang.models.enums import Category, EvaluatorGroup, Grade
from lianchuang.tasks.cycle import ensure_cycle
from lianchuang.tasks.evaluation import (
    ballots as evaluation,
    codes as evaluation_codes,
    scheme as evaluation_scheme,
    tally as evaluation_tally,
)
from lianchuang.tasks.evaluation.ballots import NewBallot
from lianchuang.tasks.opinions import rules as opinions


@pytest.fixture
def opened(district, session):
    return open_evaluation_everywhere(session)


def task_of(session, community_id):
    return session.scalars(select(Task).where(Task.community_id == community_id)).one()


def cast(session, cycle, evaluators, grade=Grade.good):
    """One ballot sheet: each evaluator grades their own community's task."""
    codes = evaluation_codes.issue_codes(session, cycle.id, [e.id for e in evaluators])
    return evaluation.cast_ballots(session, cycle.id, [
        (row, NewBallot(codes[e.id], task_of(session, e.community_id).code, grade)) for row, e in enumerate(evaluators, start=2)])


def test_no_time_joins_a_voter_to_their_ballots(opened, session):
    """The attack: evaluator.updated_at and ballot.created_at matched to the second."""
    cycle, (first, *_) = opened
    voters = session.scalars(select(Evaluator).where(Evaluator.community_id == first.id).order_by(Evaluator.id)).all()[:3]
    for voter, grade in zip(voters, [Grade.excellent, Grade.good, Grade.poor]):
        cast(session, cycle, [voter], grade)
        session.flush()
        time.sleep(1.1)  # votes seconds apart, as people vote
    session.expire_all()
    times = {t for row in session.execute(select(Ballot.created_at, Ballot.updated_at)) for t in row}
    times |= {t for row in session.execute(select(Evaluator.used_at, Evaluator.updated_at).where(
        Evaluator.id.in_([v.id for v in voters]))) for t in row}
    assert {(t.hour, t.minute, t.second, t.microsecond) for t in times} == {(0, 0, 0, 0)}  # the day, nothing finer
    for voter in voters:  # joined by time, each voter matches every sitting of the day or none: never their own
        matched = session.scalar(select(func.count(func.distinct(Ballot.sitting))).join(
            Evaluator, Evaluator.updated_at == Ballot.created_at).where(Evaluator.id == voter.id))
        assert matched in (0, 3)


def test_ballots_are_not_stored_in_the_order_of_the_register(opened, session):
    """The attack: ballot ids following the sheet's rows (which follow the register)."""
    cycle, communities = opened
    voters = session.scalars(select(Evaluator).order_by(Evaluator.community_id, Evaluator.id)).all()
    assert len(voters) >= 12 and len({v.community_id for v in voters}) >= 3
    cast(session, cycle, voters)
    stored = session.scalars(select(Task.community_id).join(Ballot, Ballot.task_id == Task.id).order_by(Ballot.id)).all()
    assert stored != sorted(stored)  # shuffled: 12+ ballots in register order by chance is below one in 10^8


def test_a_group_of_fewer_than_three_voters_does_not_count(opened, session):
    """Two party members' mean could be read back from a total beside the head's open grade."""
    cycle, communities = opened
    community = next(c for c in communities if len(session.scalars(select(Evaluator).where(
        Evaluator.community_id == c.id, Evaluator.group == EvaluatorGroup.party_members)).all()) >= 2)
    head = session.scalars(select(Evaluator).where(Evaluator.community_id == community.id,
                                                   Evaluator.group == EvaluatorGroup.joint_head)).first()
    members = session.scalars(select(Evaluator).where(Evaluator.community_id == community.id,
                                                      Evaluator.group == EvaluatorGroup.party_members)).all()[:2]
    cast(session, cycle, [head], Grade.good)
    cast(session, cycle, members, Grade.poor)
    evaluation_tally.close(session, cycle.id, date(YEAR, 12, 28))
    explained = evaluation_tally.explain(session, cycle.id, task_of(session, community.id).code)
    groups = {g["group"]: g for g in explained["groups"]}
    assert groups["党员"]["counted"] is False and groups["党员"]["quorum"] == 3 and groups["党员"]["mean"] is None
    assert groups["联席会负责人"]["open"] is True
    assert explained["score"] == 80.0  # the head's open grade alone: nothing of the two members in it


def test_a_scheme_cannot_let_a_secret_group_of_two_count_nor_take_an_infinite_weight(opened, session, tmp_path):
    cycle, _ = opened
    path = tmp_path / "方案.xlsx"
    evaluation_scheme.export_scheme(session, path, cycle.id)
    book = load_workbook(path)
    rows = {row[0].value: row for row in book["评议主体"].iter_rows(min_row=2)}
    rows["党员"][2].value = 2
    rows["居民代表"][1].value = "inf"
    rows["驻区单位"][1].value = "nan"
    rows["联席会负责人"][2].value = 1  # open ballot: one is enough
    book.save(path)
    with pytest.raises(ImportRefused) as refused:
        evaluation_scheme.import_scheme(session, cycle.id, path)
    located = {(p.column, p.reason[:6]) for p in refused.value.problems}
    assert ("最少票数", "“2”应为不") in located
    assert sum(1 for p in refused.value.problems if p.column == "权重") == 2
    assert len([p for p in refused.value.problems if p.row]) == 3


def test_the_head_is_told_their_ballot_is_open(district, session):
    from lianchuang.tasks.outbox.rendering import render_notice

    cycle = ensure_cycle(session, YEAR)
    communities = session.scalars(select(Community)).all()
    opinions.add_tasks(session, cycle.id, [opinions.NewTask(c.id, Category.services, "便民服务") for c in communities])
    drafts = evaluation.open_evaluation(session, YEAR, cycle.id, [c.id for c in communities], date(YEAR, 12, 20))
    told = {d.context["group"]: "记名" in render_notice(d.template, {"recipient": d.recipient_name, **d.context}).text
            for d in drafts}
    assert told[EvaluatorGroup.joint_head] and not any(v for g, v in told.items() if g != EvaluatorGroup.joint_head)


def test_a_code_typed_in_full_width_with_ime_spaces_is_accepted(opened, session):
    cycle, (first, *_) = opened
    voter = session.scalars(select(Evaluator).where(Evaluator.community_id == first.id)).first()
    code = evaluation_codes.issue_codes(session, cycle.id, [voter.id])[voter.id]
    typed = "　".join(code.replace("-", "－")).translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"})
    assert evaluation.cast_ballots(session, cycle.id, [(1, NewBallot(evaluation_codes.normalized_code(typed),
                                                                     task_of(session, first.id).code, Grade.good))]) == 1


def test_another_communitys_valid_code_is_told_as_an_unknown_one(opened, session):
    cycle, (first, second, *_) = opened
    voter = session.scalars(select(Evaluator).where(Evaluator.community_id == first.id)).first()
    code = evaluation_codes.issue_codes(session, cycle.id, [voter.id])[voter.id]
    other_task = task_of(session, second.id).code
    with pytest.raises(ImportRefused) as valid_elsewhere:
        evaluation.cast_ballots(session, cycle.id, [(2, NewBallot(code, other_task, Grade.good))])
    with pytest.raises(ImportRefused) as unknown:
        evaluation.cast_ballots(session, cycle.id, [(2, NewBallot("2222-2222-2222-2", other_task, Grade.good))])
    told = [(p.column, p.reason.replace(code, "X").replace("2222-2222-2222-2", "X"))
            for p in valid_elsewhere.value.problems + unknown.value.problems]
    assert told[0] == told[1]


def test_a_workbook_with_a_broken_shared_string_is_refused_in_one_line(settings, tmp_path):
    import re

    from factories import fill_in_samples

    from lianchuang.models.db import session_scope
    from lianchuang.tasks.org import parse_workbook, write_org_template

    good, broken = tmp_path / "good.xlsx", tmp_path / "org.xlsx"
    write_org_template(good)
    fill_in_samples(good)
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):  # a row's first cell names a shared string that is not there
                data = re.sub(rb'<c r="A2" t="inlineStr"><is><t>[^<]*</t></is></c>', rb'<c r="A2" t="s"><v>99999</v></c>', data)
            target.writestr(item, data)
    with session_scope() as session, pytest.raises(UserError) as refused:
        parse_workbook(session, broken)
    assert "文件内容已损坏" in str(refused.value) and "\n" not in str(refused.value)  # a UserError, not an IndexError
