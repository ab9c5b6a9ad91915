import re
from datetime import date
from pathlib import Path

import pytest
from factories import YEAR, open_evaluation_everywhere
from sqlalchemy import func, select

from lianchuang import clock
from lianchuang.errors import ImportRefused, UserError
from lianchuang.models import (
    AwardResult,
    Ballot,
    Community,
    Cycle,
    EvaluationResult,
    Evaluator,
    Objection,
    Person,
    PersonResult,
    Task,
)
from lianchuang.models.enums import Category, EvaluatorGroup, Grade, Role
from lianchuang.tasks.cycle import ensure_cycle
from lianchuang.tasks.evaluation import (
    award,
    ballots as evaluation,
    codes as evaluation_codes,
    notices as evaluation_notices,
    scheme as evaluation_scheme,
    tally as evaluation_tally,
)
from lianchuang.tasks.evaluation.ballots import NewBallot
from lianchuang.tasks.opinions import rules as opinions


@pytest.mark.parametrize("total, weights", [(500_000, [1, 1, 1]), (100, [3, 2, 1, 0]), (7, [1] * 25), (0, [1, 2])])
def test_funding_shares_add_up_to_the_budget_exactly(total, weights):
    shares = award.split_exactly(total, weights)
    assert sum(shares) == total
    assert all(share >= 0 for share in shares)


@pytest.fixture
def opened(district, session):
    return open_evaluation_everywhere(session)


def evaluators(session, community, group):
    return session.scalars(select(Evaluator).where(Evaluator.community_id == community.id,
                                                   Evaluator.group == group).order_by(Evaluator.id)).all()


def task_of(session, community):
    return session.scalars(select(Task).where(Task.community_id == community.id)).one()


UNKNOWN_CODE = "2222-2222-2222-2"  # well formed (its check character is right), never issued


def vote(session, cycle, *pairs):
    """(evaluator, task, grade) triples, one ballot each, as rows of one sheet; each evaluator who
    has not voted gets a code as on a slip (one who has voted has none: their sheet has an unknown code)."""
    codes = evaluation_codes.issue_codes(session, cycle.id, sorted({e.id for e, _, _ in pairs}))
    return evaluation.cast_ballots(session, cycle.id, [(row, NewBallot(codes.get(e.id, UNKNOWN_CODE), t.code, g))
                                                       for row, (e, t, g) in enumerate(pairs, start=2)], "选票.xlsx")


def test_a_code_grades_each_task_once_only_in_its_community_and_may_finish_later(opened, session):
    """A partial vote burned the code: the rest of the tasks could never be graded. Now a sitting
    can finish with the same code until the close; a task graded once is refused by name."""
    cycle, (first, second, *_) = opened
    opinions.add_tasks(session, cycle.id, [opinions.NewTask(first.id, Category.culture, "文艺队")])
    head = evaluators(session, first, EvaluatorGroup.joint_head)[0]
    own, later = session.scalars(select(Task).where(Task.community_id == first.id).order_by(Task.code)).all()
    other = task_of(session, second)
    code = evaluation_codes.issue_codes(session, cycle.id, [head.id])[head.id]
    with pytest.raises(ImportRefused) as refused:
        evaluation.cast_ballots(session, cycle.id, [(2, NewBallot(code, other.code, Grade.good)), (3, NewBallot(code, own.code, Grade.good)),
                                                    (4, NewBallot(code, own.code, Grade.poor))])
    assert [(p.row, p.column) for p in refused.value.problems] == [(2, "评议码"), (4, "任务编号")]
    assert "无效，或不能评议任务" in refused.value.problems[0].reason  # as an unknown code is told
    assert evaluation.cast_ballots(session, cycle.id, [(2, NewBallot(code, own.code, Grade.good))]) == 1
    with pytest.raises(ImportRefused, match=f"已经评过任务 {own.code}"):
        evaluation.cast_ballots(session, cycle.id, [(2, NewBallot(code, own.code, Grade.poor))])
    assert evaluation.cast_ballots(session, cycle.id, [(2, NewBallot(code, later.code, Grade.fair))]) == 1  # finished later
    sittings = session.execute(select(Ballot.sitting, func.count()).group_by(Ballot.sitting)).all()
    assert [count for _, count in sittings] == [2]  # one voice: both grades under one sitting


def test_a_task_without_a_quorum_is_not_rated_and_results_stay_hidden_until_closed(opened, session):
    cycle, (first, second, *_) = opened
    head = evaluators(session, first, EvaluatorGroup.joint_head)[0]  # quorum 1: counts alone
    member = evaluators(session, second, EvaluatorGroup.party_members)[0]  # quorum 2: one ballot is too few
    task, other = task_of(session, first), task_of(session, second)
    vote(session, cycle, (head, task, Grade.excellent), (member, other, Grade.poor))
    with pytest.raises(UserError, match="评议尚未结束"):
        evaluation_tally.explain(session, cycle.id, task.code)
    evaluation_tally.close(session, cycle.id, date(YEAR, 12, 28))
    results = {r.task_id: r for r in session.scalars(select(EvaluationResult))}
    assert results[task.id].score == 95.0
    assert results[other.id].score is None and results[other.id].ballots == 1
    with pytest.raises(UserError, match="评议已经结束"):
        vote(session, cycle, (evaluators(session, first, EvaluatorGroup.party_members)[0], task, Grade.good))


def test_groups_are_weighted_and_trimmed_and_each_result_is_explained_without_naming_anyone(opened, session):
    cycle, communities = opened
    first = max(communities, key=lambda c: len(evaluators(session, c, EvaluatorGroup.party_members)))
    task = task_of(session, first)
    members = evaluators(session, first, EvaluatorGroup.party_members)[:5]
    assert len(members) == 5
    task.responsible_person_id = members[0].person_id
    units = evaluators(session, first, EvaluatorGroup.stationed_units)[:2]
    grades = [Grade.excellent, Grade.excellent, Grade.good, Grade.fair, Grade.poor]  # 95 95 80 65 40
    vote(session, cycle, *[(m, task, g) for m, g in zip(members, grades)], *[(u, task, Grade.fair) for u in units])
    evaluation_tally.close(session, cycle.id, date(YEAR, 12, 28))
    # members: 95 and 40 dropped → (95 + 80 + 65) / 3 = 80; units: two people, under the secret groups'
    # minimum of 3, not counted (with them, 72.5 would give their 65 back) → 80
    assert session.scalars(select(EvaluationResult.score).where(EvaluationResult.task_id == task.id)).one() == 80.0
    person = session.scalars(select(PersonResult)).all()
    assert [(p.person_id, p.tasks, p.ballots, p.score) for p in person] == [(members[0].person_id, 1, 7, 80.0)]
    explained = evaluation_tally.explain(session, cycle.id, task.code)
    groups = {g["group"]: g for g in explained["groups"]}
    assert groups["党员"]["trimmed"] and groups["党员"]["mean"] == 80.0 and groups["党员"]["share"] == 1.0
    assert groups["党员"]["by_grade"] == {"优秀": 2, "良好": 1, "一般": 1, "较差": 1}
    assert groups["驻区单位"]["by_grade"] is None and groups["驻区单位"]["mean"] is None  # two people: their grades
    assert not groups["驻区单位"]["counted"] and groups["驻区单位"]["quorum"] == 3
    assert explained["score"] == 80.0


def test_the_scheme_round_trips_and_changes_the_tally(opened, session, tmp_path):
    from openpyxl import load_workbook

    cycle, (first, *_) = opened
    path = tmp_path / "方案.xlsx"
    evaluation_scheme.export_scheme(session, path, cycle.id)
    book = load_workbook(path)
    book["等次分值"]["B2"] = 100  # 优秀
    book["评议项目"].append(["NEW1", "党建联抓", "社区党建品牌创建"])
    book.save(path)
    assert evaluation_scheme.import_scheme(session, cycle.id, path) == dict(items=24, groups=6, grades=4)
    head = evaluators(session, first, EvaluatorGroup.joint_head)[0]
    vote(session, cycle, (head, task_of(session, first), Grade.excellent))
    evaluation_tally.close(session, cycle.id, date(YEAR, 12, 28))
    assert session.scalars(select(EvaluationResult.score).where(EvaluationResult.task_id == task_of(session, first).id)).one() == 100
    with pytest.raises(UserError, match="不能再修改"):
        evaluation_scheme.import_scheme(session, cycle.id, path)


def test_a_bad_scheme_is_refused_whole(opened, session, tmp_path):
    from openpyxl import load_workbook

    cycle, _ = opened
    path = tmp_path / "方案.xlsx"
    evaluation_scheme.export_scheme(session, path, cycle.id)
    book = load_workbook(path)
    book["评议项目"]["B2"] = "没有的类别"
    book["评议主体"]["B3"] = "-1"
    book["等次分值"]["B3"] = 99  # 良好 above 优秀
    book.save(path)
    with pytest.raises(ImportRefused) as refused:
        evaluation_scheme.import_scheme(session, cycle.id, path)
    located = {(p.file.split("/")[-1], p.row, p.column) for p in refused.value.problems}
    assert {("评议项目", 2, "类别"), ("评议主体", 3, "权重"), ("等次分值", 0, "")} <= located
    assert evaluation_scheme.grade_points(session, cycle.id)[Grade.good] == 80


def test_objections_are_recorded_after_the_results_are_published(opened, session):
    cycle, (first, *_) = opened
    task = task_of(session, first)
    with pytest.raises(UserError, match="还没有公示"):
        evaluation_tally.record_objection(session, cycle.id, task.code, "居民张三", "评分偏低", date(YEAR, 12, 29))
    evaluation_tally.close(session, cycle.id, date(YEAR, 12, 28))
    evaluation_tally.record_objection(session, cycle.id, task.code, "居民张三", "评分偏低", date(YEAR, 12, 29))
    evaluation_tally.record_objection(session, cycle.id, task.code, "居民李四", "补充材料", date(YEAR + 1, 1, 20))
    assert [o.within_deadline for o in session.scalars(select(Objection).order_by(Objection.id))] == [True, False]


def test_award_allocates_the_budget_exactly_once_and_explains_each_amount(opened, session):
    cycle, communities = opened
    with pytest.raises(UserError, match="evaluate close"):
        award.award(session, cycle.id, 500_000)
    for community in communities:
        head = evaluators(session, community, EvaluatorGroup.joint_head)[0]
        vote(session, cycle, (head, task_of(session, community), Grade.good if community.code.endswith("1") else Grade.fair))
    evaluation_tally.close(session, cycle.id, date(YEAR, 12, 28))
    rows = award.award(session, cycle.id, 500_001)
    assert sum(r["funding_yuan"] for r in rows) == 500_001
    with pytest.raises(UserError, match="--redo"):
        award.award(session, cycle.id, 300_000)
    assert sum(r["funding_yuan"] for r in award.award(session, cycle.id, 300_000, redo=True)) == 300_000
    drafts = evaluation_notices.award_drafts(session, YEAR, cycle.id)
    stored = {a.community_id: a for a in session.scalars(select(AwardResult))}
    summary = next(d for d in drafts if d.template == "award_summary")  # to the district coordinator
    assert summary.context["total"] == 300_000 and len(summary.context["rows"]) == len(communities)
    for draft in (d for d in drafts if d.template == "award"):
        assert draft.context["explanation"].endswith(f"= {draft.context['funding']:,} 元")
        assert draft.context["funding"] == stored[draft.community_id].funding_yuan


def test_the_award_waits_for_the_objection_period_unless_confirmed(district, settings):
    from lianchuang.models import District, DistrictEvaluation
    from lianchuang.models.db import session_scope
    from lianchuang.tasks.evaluation.use_cases import check_award

    with session_scope() as session:
        cycle = ensure_cycle(session, YEAR)
        session.add(DistrictEvaluation(cycle_id=cycle.id, district_id=session.scalar(select(District.id)),
                                       closed_on=date(YEAR, 12, 28), objection_deadline=date(YEAR + 1, 1, 4)))
    with clock.frozen_at(date(YEAR + 1, 1, 2)):
        with pytest.raises(UserError, match=f"异议可提出到 {YEAR + 1}-01-04.*--yes"):
            check_award(YEAR, 500_000, False, during_objections=False)
        check_award(YEAR, 500_000, False, during_objections=True)
    with clock.frozen_at(date(YEAR + 1, 1, 5)):
        check_award(YEAR, 500_000, False, during_objections=False)


def test_showing_an_allocation_made_in_the_objection_period_needs_no_yes(opened, session):
    """The award email tells the district office to run `lianchuang award`: within the objection
    period that showed nothing but a refusal asking for --yes. Only allocating needs it."""
    from lianchuang.tasks.evaluation.use_cases import check_award

    cycle, communities = opened
    vote(session, cycle, *[(evaluators(session, c, EvaluatorGroup.joint_head)[0], task_of(session, c), Grade.good)
                           for c in communities])
    evaluation_tally.close(session, cycle.id, date(YEAR, 12, 28))
    award.award(session, cycle.id, 500_000, False)
    session.commit()
    with clock.frozen_at(date(YEAR, 12, 30)):  # within the objection period
        check_award(YEAR, 500_000, False, during_objections=False)  # shown: no refusal
        with pytest.raises(UserError, match="--redo"):
            check_award(YEAR, 600_000, False, during_objections=False)  # another budget still says how


def test_a_quorum_counts_people_not_ballots(opened, session):
    """The coordinator's case: one 居民代表 grading both tasks of one responsible person reached
    the group's quorum alone. Two ballots of one person are one voice."""
    from lianchuang.models import Person

    cycle, communities = opened
    first = next(c for c in communities if evaluators(session, c, EvaluatorGroup.resident_reps)
                 and len(evaluators(session, c, EvaluatorGroup.party_members)) >= 3)
    resident, = evaluators(session, first, EvaluatorGroup.resident_reps)[:1]
    members = evaluators(session, first, EvaluatorGroup.party_members)[:3]  # a secret group counts from 3 people
    one = task_of(session, first)
    code, = opinions.add_tasks(session, cycle.id, [opinions.NewTask(first.id, Category.culture, "组建社区文艺队")])
    two = session.scalars(select(Task).where(Task.code == code)).one()
    one.responsible_person_id = two.responsible_person_id = members[0].person_id
    vote(session, cycle, (resident, one, Grade.poor), (resident, two, Grade.poor), *[(m, one, Grade.excellent) for m in members])
    evaluation_tally.close(session, cycle.id, date(YEAR, 12, 28))
    person = session.get(Person, members[0].person_id)
    groups = {g["group"]: g for g in evaluation_tally.explain(session, cycle.id, person.code)["groups"]}
    assert (groups["居民代表"]["ballots"], groups["居民代表"]["evaluators"], groups["居民代表"]["counted"]) == (2, 1, False)
    assert session.scalars(select(PersonResult.score)).one() == 95.0  # the party members' grade alone


def test_the_invitation_lists_the_tasks_and_says_how_to_vote(district, session):
    from lianchuang.tasks.outbox.rendering import render_notice

    cycle = ensure_cycle(session, YEAR)
    community = session.scalars(select(Community).order_by(Community.code)).first()
    opinions.add_tasks(session, cycle.id, [opinions.NewTask(community.id, Category.services, "上门服务"),
                                           opinions.NewTask(community.id, Category.culture, "文艺队")])
    drafts = evaluation.open_evaluation(session, YEAR, cycle.id, [community.id], date(YEAR, 12, 20))
    rendered = render_notice(drafts[0].template, drafts[0].context | dict(recipient="张三"))
    codes = session.scalars(select(Task.code).where(Task.community_id == community.id)).all()
    assert all(code in rendered.text for code in codes) and "上门服务" in rendered.text and "文艺队" in rendered.text
    assert "投票方法" in rendered.text and "□\u2060优秀" in rendered.text and "□\u2060较差" in rendered.text  # a box keeps to its label
    emailed = [d for d in drafts if d.recipient_email]
    paper = [d for d in drafts if not d.recipient_email]
    assert emailed and all(d.context["code"] for d in emailed)  # the code goes to the person's mailbox only
    assert all(d.context["code"] is None for d in paper)  # on paper it comes with the ballot (evaluate slips)


def test_slips_go_to_evaluators_without_a_code_and_never_void_an_emailed_one_unasked(opened, session, settings):
    """`evaluate open` says to run `evaluate slips` for people without email; slips used to issue new
    codes for every evaluator, so the emailed codes died silently."""
    from lianchuang.tasks.evaluation.slips import write_ballot_slips

    cycle, (first, *_) = opened
    head = evaluators(session, first, EvaluatorGroup.joint_head)[0]
    vote(session, cycle, (head, task_of(session, first), Grade.excellent))
    everyone = session.scalars(select(Evaluator).where(Evaluator.community_id == first.id)).all()
    emailed = {e.id: e.code_hash for e in everyone if e.code_hash is not None and e.used_at is None}
    without_code = [e for e in everyone if e.code_hash is None and e.used_at is None]
    assert emailed and without_code
    path, count, replaced = write_ballot_slips(session, YEAR, cycle.id, first)
    page = open(path, encoding="utf-8").read()
    assert count == len(without_code) and page.count('class="slip"') == count  # the evidence sheet is class="slip evidence" and replaced == []
    session.expire_all()
    assert {e.id: e.code_hash for e in everyone if e.id in emailed} == emailed  # every emailed code still works
    printed = set(re.findall(r"(?:[2-9A-Z]{4}-){3}[2-9A-Z]", page))
    salt = session.get(Cycle, cycle.id).code_salt
    assert {evaluation_codes.code_hash(salt, code) for code in printed} == {e.code_hash for e in without_code}
    assert task_of(session, first).code in page
    voters = [e.person_id for e in everyone if e.group != EvaluatorGroup.joint_head]  # the head collects: named as such
    names = session.scalars(select(Person.name).where(Person.id.in_(voters))).all()
    assert names and not any(name in page for name in names)  # a slip never names its evaluator

    assert write_ballot_slips(session, YEAR, cycle.id, first) == (None, 0, [])  # printed once: no new codes
    again = next(e for e in everyone if e.id in emailed)  # one who lost the email asks for a slip
    path, count, replaced = write_ballot_slips(session, YEAR, cycle.id, first, {again.person_id})
    assert count == 1 and replaced == [session.get(Person, again.person_id).name]
    session.expire_all()
    assert session.get(Evaluator, again.id).code_hash != emailed[again.id]  # that code, and only that one, is void


def test_two_sittings_with_one_code_at_once_record_one_ballot_sheet_and_refuse_the_other(opened, session):
    """20 races, each of two sittings started together with one code: exactly one is recorded each
    time (run on SQLite and, with LIANCHUANG_TEST_DATABASE_URL, on PostgreSQL)."""
    import threading

    from lianchuang.models import Ballot
    from lianchuang.models.db import session_scope
    from lianchuang.tasks.evaluation.use_cases import vote as vote_by_code

    cycle, communities = opened
    people = [(e, task_of(session, c)) for c in communities for g in EvaluatorGroup for e in evaluators(session, c, g)][:20]
    assert len(people) == 20
    codes = evaluation_codes.issue_codes(session, cycle.id, [e.id for e, _ in people])
    session.commit()  # the sittings run in sessions of their own
    for evaluator, task in people:
        start, outcomes = threading.Barrier(2), []

        def sitting(grade, code=codes[evaluator.id], task=task.code):
            start.wait()
            try:
                outcomes.append(vote_by_code(YEAR, [(1, NewBallot(code, task, grade))]))
            except UserError as refused:
                outcomes.append(str(refused))

        threads = [threading.Thread(target=sitting, args=(g,)) for g in (Grade.excellent, Grade.poor)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert outcomes.count(1) == 1, outcomes  # one sitting recorded, the other refused with a message
    with session_scope() as fresh:
        assert fresh.scalar(select(func.count()).select_from(Ballot)) == 20


def test_the_ballot_box_keeps_no_evaluator_and_the_register_no_code(opened, session):
    """After the practice of Consul and Helios: who voted is in the register (the day only), what
    was voted is in the ballot box under an anonymous sitting; codes are kept only as salted hashes."""
    from lianchuang.models import Ballot

    cycle, (first, *_) = opened
    assert not {"evaluator_id", "person_id"} & set(Ballot.__table__.c.keys()) and "code" not in Evaluator.__table__.c
    members = evaluators(session, first, EvaluatorGroup.party_members)[:2]
    task = task_of(session, first)
    vote(session, cycle, (members[0], task, Grade.excellent))
    vote(session, cycle, (members[1], task, Grade.poor))
    sittings = session.scalars(select(Ballot.sitting)).all()
    # one token per code, derived from the code alone: no column of the register gives it
    assert len(set(sittings)) == 2 and all(re.fullmatch(r"[0-9a-f]{16}", s) for s in sittings)
    register = {value for e in members for value in (e.code_hash, str(e.id), str(e.person_id))}
    assert not any(s in value or value.startswith(s) for s in sittings for value in register)
    used = [e.used_at for e in members]
    assert all(u is not None and (u.hour, u.minute, u.second) == (0, 0, 0) for u in used)  # no time to match a ballot by
    assert all(len(e.code_hash) == 64 for e in members)


def test_codes_have_a_check_character_and_a_copying_slip_is_told_as_such(opened, session):
    cycle, (first, *_) = opened
    head = evaluators(session, first, EvaluatorGroup.joint_head)[0]
    code = evaluation_codes.issue_codes(session, cycle.id, [head.id])[head.id]
    assert re.fullmatch(r"(?:[2-9A-HJKMNP-Z]{4}-){3}[2-9A-HJKMNP-Z]", code)
    slip = code[:-1] + next(c for c in evaluation_codes.CODE_ALPHABET if c != code[-1])  # the last character miscopied
    swapped = code[1] + code[0] + code[2:]
    for wrong in (slip, swapped) if code[0] != code[1] else (slip,):
        with pytest.raises(ImportRefused, match="抄错"):
            evaluation.cast_ballots(session, cycle.id, [(2, NewBallot(wrong, task_of(session, first).code, Grade.good))])
    assert evaluation.cast_ballots(session, cycle.id, [(2, NewBallot(code.lower().replace("-", " "), task_of(session, first).code,
                                                                     Grade.good))]) == 1  # typed loosely, still the code


def test_a_sheet_of_guessed_codes_is_refused_whole_and_the_attempt_audited(opened, session, settings, tmp_path):
    from lianchuang.models import AuditEntry, Ballot
    from lianchuang.models.db import session_scope
    from lianchuang.tasks.evaluation.use_cases import import_ballot_file

    cycle, (first, *_) = opened
    head = evaluators(session, first, EvaluatorGroup.joint_head)[0]
    real = evaluation_codes.issue_codes(session, cycle.id, [head.id])[head.id]
    task = task_of(session, first).code
    session.commit()
    sheet = tmp_path / "选票.csv"
    guesses = [evaluation_codes.new_code() for _ in range(5)]
    sheet.write_text("\n".join(["评议码,任务编号,任务,等次", f"{real},{task},,优秀"] + [f"{g},{task},,优秀" for g in guesses]),
                     encoding="utf-8")
    with pytest.raises(ImportRefused, match="5 个无效或已用过的评议码"):
        import_ballot_file(YEAR, sheet)
    with session_scope() as fresh:
        assert fresh.scalar(select(func.count()).select_from(Ballot)) == 0  # the real code's row too: refused whole
        entries = fresh.scalars(select(AuditEntry).where(AuditEntry.action == "refuse")).all()
        assert len(entries) == 1 and "unknown_codes" in entries[0].detail


def test_a_code_is_shown_once_in_the_email_and_never_by_outbox_show(district, settings):
    import email
    from email import policy

    from lianchuang.models import Notice
    from lianchuang.models.db import session_scope
    from lianchuang.tasks.outbox import delivery, drafts as outbox
    from lianchuang.tasks.outbox.use_cases import notice_in_full

    with session_scope() as session:
        cycle = ensure_cycle(session, YEAR)
        community = session.scalars(select(Community).order_by(Community.code)).first()
        opinions.add_tasks(session, cycle.id, [opinions.NewTask(community.id, Category.services, "上门服务")])
        drafts = [d for d in evaluation.open_evaluation(session, YEAR, cycle.id, [community.id], date(YEAR, 12, 20))
                  if d.recipient_email]
        outbox.queue(session, drafts)
        notice_id = session.scalar(select(Notice.id).where(Notice.key == drafts[0].key))
    code = drafts[0].context["code"]
    assert code not in notice_in_full(notice_id)["body"]  # queued: the code is in the store, not on screen
    delivery.deliver_all()
    with session_scope() as session:
        stored = session.get(Notice, notice_id)
        assert code not in stored.body.text + stored.body.html and delivery.SENT_CODE in stored.body.text
    mailed = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in (settings.maildir / "new").iterdir()]
    assert any(code in m.get_body(("plain",)).get_content() for m in mailed)  # the one place it is shown


def test_the_spare_yuan_go_to_the_largest_fractions_of_each_communitys_exact_total():
    """The base and the bonus each rounded on their own gave a spare yuan to a community whose exact
    amount was whole (60,001 for 60,000.00) and not to 77,142.86. Whole yuan are now given once, on
    each community's exact total."""
    from fractions import Fraction

    exact = [Fraction(60_000), Fraction(540_000, 7), Fraction(300_000, 7)]  # 60,000.00 77,142.86 42,857.14
    assert award.to_whole_yuan(exact) == [60_000, 77_143, 42_857]


def test_an_objection_is_answered_its_community_told_the_board_shows_it_and_the_award_waits_for_it(opened, session, settings):
    from lianchuang.models import Notice
    from lianchuang.models.db import session_scope
    from lianchuang.tasks.board import build_board
    from lianchuang.tasks.evaluation.use_cases import answer, check_award

    cycle, communities = opened
    task = task_of(session, communities[0])
    evaluation_tally.close(session, cycle.id, date(YEAR, 12, 28))
    evaluation_tally.record_objection(session, cycle.id, task.code, "居民李四", "补充材料", date(YEAR + 1, 2, 20))  # late
    objection = evaluation_tally.record_objection(session, cycle.id, task.code, "居民张三", "评分偏低", date(YEAR, 12, 29))
    objection_id, cycle_id, community_code = objection.id, cycle.id, communities[0].code
    session.commit()
    with clock.frozen_at(date(YEAR + 1, 1, 20)):  # the period is over; one objection in it is still open
        with pytest.raises(UserError, match=f"还有 1 件异议没有答复（编号 {objection_id}）.*evaluate answer"):
            check_award(YEAR, 500_000, False, during_objections=False)
        with pytest.raises(UserError, match="请写明答复内容"):
            answer(YEAR, objection_id, "  ", False, date(YEAR + 1, 1, 8))
        with pytest.raises(UserError, match="没有编号为 999 的异议"):
            answer(YEAR, 999, "已核实", False, date(YEAR + 1, 1, 8))
        done = answer(YEAR, objection_id, "经查巡逻记录，维持原结果", False, date(YEAR + 1, 1, 8))
        assert done["notices"] >= 1  # the community's coordinators, who pass it on
        check_award(YEAR, 500_000, False, during_objections=False)  # the late one does not hold the award
    with session_scope() as fresh:
        notice = fresh.scalars(select(Notice).where(Notice.template == "objection_answer")).first()
        assert "经查巡逻记录，维持原结果" in notice.body.text and "维持原评议结果" in notice.body.text
        assert fresh.get(Objection, objection_id).answered_on == date(YEAR + 1, 1, 8)
        build_board(fresh, cycle_id, YEAR, settings.data_dir / "board")
    page = (settings.data_dir / "board" / f"{community_code}.html").read_text(encoding="utf-8")
    assert "异议及答复" in page and "经查巡逻记录，维持原结果" in page and "待答复" in page  # the late one, unanswered


def test_the_prefect_task_refuses_the_award_where_the_command_does(opened, session, settings):
    """The award deployment calls steps.allocate_funding: it holds the command's checks, so a run
    from the UI during the objection period is refused unless 照样分配 (confirm) is ticked."""
    from lianchuang.tasks import steps

    cycle, communities = opened
    vote(session, cycle, *[(evaluators(session, c, EvaluatorGroup.joint_head)[0], task_of(session, c), Grade.good)
                           for c in communities])
    evaluation_tally.close(session, cycle.id, date(YEAR, 12, 28))
    session.commit()
    with clock.frozen_at(date(YEAR, 12, 30)):
        with pytest.raises(UserError, match="还在公示期.*照样分配"):
            steps.allocate_funding.fn(YEAR, 500_000, False)
        with pytest.raises(UserError, match="还在公示期"):
            steps.preview_award.fn(YEAR, 500_000, False)  # refused before anyone is asked to approve
        assert steps.allocate_funding.fn(YEAR, 500_000, False, confirm=True)["funding_allocated"] == 500_000


def test_the_invitation_never_sends_the_coordinator_to_collect_a_ballot_from_themselves(district, session):
    cycle = ensure_cycle(session, YEAR)
    first = session.scalars(select(Community).order_by(Community.code)).first()
    opinions.add_tasks(session, cycle.id, [opinions.NewTask(first.id, Category.services, "便民服务")])
    drafts = evaluation.open_evaluation(session, YEAR, cycle.id, [first.id], date(YEAR, 12, 20))
    coordinator = session.scalars(select(Person).where(Person.community_id == first.id,
                                                       Person.role == Role.community_coordinator)).first()
    own = next(d for d in drafts if d.recipient_key == coordinator.code)
    assert own.context["collector"] == "社区党组织"
    assert {d.context["collector"] for d in drafts if d.recipient_key != coordinator.code} == {coordinator.name}


def test_the_invitation_and_the_slips_show_what_each_task_delivered(district, session, settings):
    """Evaluators grade what was delivered, not memory: each task's goal, the steps committed, the
    year's reported progress and the residents' suggestions it answers."""
    from factories import add_opinion

    from lianchuang.models import CommittedMilestone, Milestone, Opinion
    from lianchuang.models.enums import OpinionStatus
    from lianchuang.tasks.evaluation.slips import write_ballot_slips
    from lianchuang.tasks.outbox.rendering import render_notice
    from lianchuang.tasks.progress.ranking import NewReport, record_reports

    cycle = ensure_cycle(session, YEAR)
    community = session.scalars(select(Community).order_by(Community.code)).first()
    code, = opinions.add_tasks(session, cycle.id, [opinions.NewTask(community.id, Category.services, "上门服务")])
    task = session.scalars(select(Task).where(Task.code == code)).one()
    task.goal = "为 30 户高龄老人上门服务"
    session.add_all([CommittedMilestone(task_id=task.id, due_month=6, target_percent=50, title="摸底"),
                     CommittedMilestone(task_id=task.id, due_month=12, target_percent=100, title="全覆盖"),
                     Milestone(task_id=task.id, due_month=12, target_percent=100, title="全覆盖")])
    suggestion = session.get(Opinion, add_opinion(session, community.id, "老人行动不便，希望上门服务"))
    suggestion.task_id, suggestion.status = task.id, OpinionStatus.adopted
    record_reports(session, [NewReport(task.id, date(YEAR, 11, 25), 80)])
    drafts = evaluation.open_evaluation(session, YEAR, cycle.id, [community.id], date(YEAR, 12, 20))
    line, = drafts[0].context["evidence"]
    assert line == (f"{code} 上门服务：目标 为 30 户高龄老人上门服务；承诺的步骤 6月 50% 摸底；12月 100% 全覆盖；"
                    "报告进度 80%（11月25日报告）；来自 1 条群众意见建议")
    assert line in render_notice("evaluation_invitation", drafts[0].context | dict(recipient="张三")).text
    page, _, _ = write_ballot_slips(session, YEAR, cycle.id, community)
    assert "评议参考" in Path(page).read_text(encoding="utf-8") and "报告进度 80%" in Path(page).read_text(encoding="utf-8")
