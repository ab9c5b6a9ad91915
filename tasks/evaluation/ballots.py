"""Stage 5 rules: the year-end joint evaluation: the register of evaluators and their invitations,
and the ballot box (casting, paper ballot sheets). The codes are in codes.py, the tally, the close
and objections in tally.py, the scheme in scheme.py, the award in award.py.

Scheme (editable from a workbook before the first ballot): evaluation items in the five
categories, the six evaluator groups with a weight and a quorum each, and the points of each
grade (优秀 95, 良好 80, 一般 65, 较差 40 by default).

The award and the funding are in award.py, their weights and shares in tasks/rules.py."""

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lianchuang import clock
from lianchuang.errors import COMMAND_LINE, ImportRefused, Problem, UserError
from lianchuang.models import Ballot, Community, DistrictEvaluation, Evaluator, Person, Street, Task, Unit
from lianchuang.models.db import chunked, insert_ignoring_duplicates
from lianchuang.models.enums import EvaluatorGroup, Grade, Role, Stage, UnitKind
from lianchuang.models.queries import district_ids
from lianchuang.tasks.cycle import only_district
from lianchuang.tasks.evaluation.codes import code_hash, cycle_salt, issue_codes, mistyped, normalized_code, sitting_token
from lianchuang.tasks.evaluation.scheme import ensure_scheme, items_by_category
from lianchuang.tasks.evaluation.slips import ballot_evidence, ballot_tasks, coordinators
from lianchuang.tasks.outbox.drafts import Draft, is_valid_email
from lianchuang.tasks.sheets import Column, SheetReader, write_template

GROUP_OF_UNIT_KIND = {UnitKind.stationed_unit: EvaluatorGroup.stationed_units, UnitKind.linked_unit: EvaluatorGroup.stationed_units,
                      UnitKind.mass_org: EvaluatorGroup.mass_orgs, UnitKind.civil_org: EvaluatorGroup.civil_orgs}
MEMBERS_PER_COMMUNITY = 10
OBJECTION_DAYS = 7
GUESSES_AUDITED = 3  # a file with more unknown codes than this looks like guessing: refused and recorded


def open_evaluation(session: Session, year: int, cycle_id: int, community_ids: list[int], deadline: date) -> list[Draft]:
    """Set up the scheme (the default, unless one was imported) and invite the evaluators of each community, each
    with a personal one-time code. Re-running invites only those not yet invited."""
    ensure_scheme(session, cycle_id)
    candidates = session.execute(
        select(Person.id, Person.community_id, Person.role, Unit.kind).outerjoin(Unit, Person.unit_id == Unit.id)
        .where(Person.community_id.in_(community_ids)).order_by(Person.code)).all()
    invited, members = [], defaultdict(int)
    for person_id, community_id, role, unit_kind in candidates:
        group = None
        if role == Role.community_coordinator:
            group = EvaluatorGroup.joint_head
        elif role == Role.unit_leader:
            group = GROUP_OF_UNIT_KIND.get(unit_kind)
        elif role in (Role.serving_member, Role.member_without_post) and members[community_id] < MEMBERS_PER_COMMUNITY:
            members[community_id] += 1
            group = EvaluatorGroup.party_members
        elif role == Role.resident_rep:
            group = EvaluatorGroup.resident_reps
        if group:
            invited.append(dict(cycle_id=cycle_id, community_id=community_id, person_id=person_id, group=group))
    insert_ignoring_duplicates(session, Evaluator, invited, ["cycle_id", "person_id"])
    rows = session.execute(select(Evaluator, Person, Community.name).join(Person, Evaluator.person_id == Person.id)
                           .join(Community, Evaluator.community_id == Community.id)
                           .where(Evaluator.cycle_id == cycle_id, Evaluator.community_id.in_(community_ids),
                                  Evaluator.code_hash.is_(None))).all()  # the newly invited: a code each
    # A code goes only into an email; people without one get theirs on a paper ballot (evaluate slips).
    codes = issue_codes(session, cycle_id, [evaluator.id for evaluator, person, _ in rows if is_valid_email(person.email)])
    categories = items_by_category(session, cycle_id)
    tasks, collectors = ballot_tasks(session, cycle_id, community_ids), coordinators(session, community_ids)
    evidence = ballot_evidence(session, cycle_id, community_ids)
    return [Draft.to_person(person, year, Stage.evaluation, "evaluation_invitation",
                  community_id=evaluator.community_id, secret=codes.get(evaluator.id),
                  context=dict(year=year, community=community, group=evaluator.group.value, code=codes.get(evaluator.id),
                               tasks=tasks.get(evaluator.community_id, []), grades=Grade.labels(), categories=categories,
                               evidence=evidence.get(evaluator.community_id, []),
                               collector=_collector(collectors.get(evaluator.community_id), person), deadline=deadline))
            for evaluator, person, community in rows]


def _collector(coordinator: str | None, person: Person) -> str:
    """Who hands out and collects the paper ballots: the community's coordinator, or, for the
    coordinator (who is an evaluator too) and where there is none, the community's party organisation."""
    return coordinator if coordinator and coordinator != person.name else "社区党组织"


@dataclass(frozen=True)
class NewBallot:
    code: str
    task_code: str
    grade: Grade


CLOSED_BY_DISTRICT = "评议按区结束"  # said when a database of several districts is not told which


def closing(session: Session, cycle_id: int, district_id: int | None = None) -> DistrictEvaluation | None:
    """The district's close of the evaluation (None: still open); the database's only district when none is given."""
    district_id = only_district(session, district_id, CLOSED_BY_DISTRICT)
    return session.scalar(select(DistrictEvaluation).where(DistrictEvaluation.cycle_id == cycle_id,
                                                           DistrictEvaluation.district_id == district_id))


def closed_on(session: Session, cycle_id: int, district_id: int | None = None) -> date | None:
    found = closing(session, cycle_id, district_id)
    return found.closed_on if found else None


def closed_districts(session: Session, cycle_id: int) -> set[int]:
    return set(session.scalars(select(DistrictEvaluation.district_id).where(DistrictEvaluation.cycle_id == cycle_id)))


def district_of_community(session: Session, community_id: int) -> int:
    return session.scalar(select(Street.district_id).join(Community, Community.street_id == Street.id)
                          .where(Community.id == community_id))


def cast_ballots(session: Session, cycle_id: int, ballots: list[tuple[int, NewBallot]], file: str = COMMAND_LINE) -> int:
    """Record (row, ballot) pairs. A code grades each task of its community once, in one sitting or
    several until the close (a partial vote can be finished); a ballot for a task of another
    community, a second grade for a task and any ballot after the evaluation closed in the task's
    district are refused. Raises ImportRefused listing every problem; writes nothing then."""
    closed = closed_districts(session, cycle_id)
    if closed and closed >= set(district_ids(session)):
        raise UserError("评议已经结束，不能再投票")
    salt = cycle_salt(session, cycle_id)
    hashes = {b.code: code_hash(salt, b.code) for _, b in ballots}
    evaluators = {}
    for chunk in chunked(sorted(set(hashes.values()))):
        evaluators.update(session.execute(select(Evaluator.code_hash, Evaluator).where(
            Evaluator.cycle_id == cycle_id, Evaluator.code_hash.in_(chunk))).tuples().all())
    tasks, task_districts = {}, {}
    for chunk in chunked(sorted({b.task_code for _, b in ballots})):
        for task, district_id in session.execute(
                select(Task, Street.district_id).join(Community, Community.id == Task.community_id)
                .join(Street, Street.id == Community.street_id).where(Task.cycle_id == cycle_id, Task.code.in_(chunk))):
            tasks[task.code], task_districts[task.id] = task, district_id
    problems, rows, seen, unknown = [], [], {}, set()
    day = _today_only()  # the ballot box keeps the day only, as the register does: no time to join them by
    # One anonymous token per code, derived from the code alone: the ballot box keeps no person.
    sittings = {b.code: sitting_token(salt, b.code) for _, b in ballots}
    graded = set(session.execute(select(Ballot.sitting, Ballot.task_id).where(
        Ballot.cycle_id == cycle_id, Ballot.sitting.in_(sorted(set(sittings.values()))))).tuples())
    voters = set()
    for number, ballot in ballots:
        evaluator, task = evaluators.get(hashes[ballot.code]), tasks.get(ballot.task_code)
        if mistyped(ballot.code):
            problems.append(Problem(file, number, "评议码", f"评议码 {ballot.code} 有误（可能抄错了一位）：请核对评议票或邀请"))
        elif evaluator is None or task is None or task.community_id != evaluator.community_id:
            # one message whether the code is unknown or another community's: a guess learns nothing
            if evaluator is None:
                unknown.add(ballot.code)
            problems.append(Problem(file, number, "评议码", f"评议码 {ballot.code} 无效，或不能评议任务 {ballot.task_code}"
                                                              f"（只能评议本社区的任务）：请核对评议码和任务编号"))
        elif task_districts[task.id] in closed:
            problems.append(Problem(file, number, "任务编号", f"任务 {ballot.task_code} 所在的区评议已经结束，不能再投票"))
        elif (sittings[ballot.code], task.id) in graded:
            problems.append(Problem(file, number, "任务编号", f"这个评议码已经评过任务 {ballot.task_code}（每项任务只能评一次；"
                                                              f"还没评的任务可以继续用这个评议码评）"))
        elif (ballot.code, ballot.task_code) in seen:
            problems.append(Problem(file, number, "任务编号", f"同一评议码对任务 {ballot.task_code} 已在第{seen[ballot.code, ballot.task_code]}行评过"))
        else:
            seen[ballot.code, ballot.task_code] = number
            voters.add(evaluator.id)
            rows.append(dict(cycle_id=cycle_id, sitting=sittings[ballot.code], task_id=task.id, group=evaluator.group,
                             grade=ballot.grade, created_at=day, updated_at=day))
    if len(unknown) > GUESSES_AUDITED:
        raise GuessedCodes(problems, len(unknown), file)
    if problems:
        raise ImportRefused(problems)
    _register_voted(session, sorted(voters))
    secrets.SystemRandom().shuffle(rows)  # stored in no order that follows the register (or the sheet)
    return _into_the_box(session, rows)


def _today_only():
    from datetime import datetime

    return datetime.combine(clock.today(), datetime.min.time())


class GuessedCodes(ImportRefused):
    """More unknown codes than a person mistypes: refused whole, and the attempt is recorded (by
    the caller, after this transaction is rolled back)."""

    def __init__(self, problems: list[Problem], unknown: int, file: str):
        super().__init__(problems)
        self.unknown, self.file = unknown, file
        self.args = (f"{file}：有 {unknown} 个无效或已用过的评议码，整个文件未录入；这次尝试已记录在审计日志中。"
                     + self.args[0],)


def _register_voted(session: Session, evaluator_ids: list[int]) -> None:
    """The register notes that these people voted (the day of their first ballot only, never what)."""
    now = _today_only()  # the register keeps the day only: used_at and updated_at alike
    for chunk in chunked(evaluator_ids):
        session.execute(update(Evaluator).where(Evaluator.id.in_(chunk), Evaluator.used_at.is_(None))
                        .values(used_at=now, updated_at=now).execution_options(synchronize_session="fetch"))


def _into_the_box(session: Session, rows: list[dict]) -> int:
    """Insert the ballots, each (sitting, task) once (a unique key in the database): of two sittings
    with one code grading one task at the same moment, the second records nothing at all."""
    from sqlalchemy.exc import IntegrityError, OperationalError

    try:
        inserted = insert_ignoring_duplicates(session, Ballot, rows, ["sitting", "task_id"])
    except (OperationalError, IntegrityError):  # SQLite: another sitting wrote first ("database is locked")
        inserted = -1
    if inserted != len(rows):
        raise UserError("这个评议码刚刚在别处评过同一项任务（同时有两次投票）：这次的选票没有记录。请核对后重试")
    return inserted


BALLOT_COLUMNS = [Column("code", "评议码", ("code",), True), Column("task", "任务编号", ("task",), True),
                  Column("title", "任务", ("title",)), Column("grade", "等次", ("grade",), True)]


def write_ballot_sheet(session: Session, path: Path, cycle_id: int, community: Community) -> int:
    """A sheet to type paper ballots into: the community's tasks, a row per task, to be copied for
    each ballot (评议码 and 等次 filled from the paper)."""
    tasks = session.execute(select(Task.code, Task.title).where(Task.cycle_id == cycle_id, Task.community_id == community.id)
                            .order_by(Task.code)).all()
    write_template(path, {"选票": BALLOT_COLUMNS}, choices={"grade": Grade.labels()},
                   examples={"选票": [["", code, title, ""] for code, title in tasks]}, notes=[
        f"{community.name}纸质选票录入表：每张选票的每项任务一行，填写选票上的评议码和等次（优秀、良好、一般、较差）。",
        "多张选票时把任务行复制多份。一个评议码只能录入一次；整个文件有问题时不录入任何选票。",
        "录好后运行：lianchuang evaluate import 本文件.xlsx"])
    return len(tasks)


def import_ballots(session: Session, cycle_id: int, path: Path) -> dict:
    reader = SheetReader(path, BALLOT_COLUMNS, sheet=None if path.suffix.lower() in (".csv", ".txt") else "选票")
    if reader.problems:
        raise ImportRefused(reader.problems)
    problems, ballots = [], []
    for number, row in reader:
        if not row.get("code") and not row.get("grade"):
            continue  # a task row of the template left blank
        grade = Grade.parse(row.get("grade", ""))
        if grade is None:
            problems.append(Problem(reader.file, number, "等次", f"“{row.get('grade', '')}”应为 优秀、良好、一般 或 较差"))
        if not row.get("code"):
            problems.append(Problem(reader.file, number, "评议码", "评议码为空"))
        if grade and row.get("code"):
            ballots.append((number, NewBallot(normalized_code(row["code"]), row.get("task", ""), grade)))
    problems += reader.cell_problems
    if problems:
        raise ImportRefused(problems)
    if not ballots:
        raise UserError(f"{reader.file}: 没有任何选票（评议码和等次都是空的）")
    return dict(ballots=cast_ballots(session, cycle_id, ballots, reader.file),
                evaluators=len({b.code for _, b in ballots}))
