"""Stage 5 rules: the year-end joint evaluation and the innovation award tied to funding.

Scheme (editable from a workbook before the first ballot): evaluation items in the five
categories, the six evaluator groups with a weight and a quorum each, and the points of each
grade (优秀 95, 良好 80, 一般 65, 较差 40 by default).

Tally, per task and per responsible person (all ballots of the tasks they are responsible for):
within each evaluator group, the mean of the grades' points; where a group cast at least
TRIM_FROM ballots, its single highest and single lowest are dropped first (trimmed mean). A group
counts when it cast at least its quorum of ballots; the score is the weighted mean of the counted
groups' means, the weights renormalised over them. Nothing counted: "not rated" (no score).

Award (award.py): year score = 0.5 × evaluation (the mean score of the community's rated tasks) + 0.3 ×
progress (the mean of its published monthly ranking scores) + 0.2 × innovation (the mean score
of its rated 党建联抓 tasks, the category holding the innovation items; the evaluation figure
where it has none). Funding: 60% of the budget is shared equally (base share); 40% is shared by
award weight (一等奖 3, 二等奖 2, 三等奖 1) among the top 10% / next 20% / next 30% of
communities. Amounts are whole yuan, remainders going to the largest fractions, so they add up
to the budget exactly."""

import hashlib
import re
import secrets
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Select, String, and_, case, distinct, func, select, type_coerce, update
from sqlalchemy.orm import Session, aliased

from lianchuang import clock
from lianchuang.errors import COMMAND_LINE, ImportRefused, Problem, UserError
from lianchuang.models import (
    Ballot,
    Community,
    Cycle,
    DistrictEvaluation,
    EvaluationResult,
    Evaluator,
    GradePoint,
    GroupWeight,
    Objection,
    Person,
    PersonResult,
    Street,
    Task,
    Unit,
)
from lianchuang.models.db import chunked, insert_ignoring_duplicates, insert_new
from lianchuang.models.enums import EvaluatorGroup, Grade, Role, Stage, UnitKind
from lianchuang.tasks.evaluation.scheme import SECRET_GROUP_MINIMUM, ensure_scheme, items_by_category
from lianchuang.tasks.evaluation.slips import ballot_tasks, coordinators
from lianchuang.tasks.outbox.drafts import Draft, is_valid_email
from lianchuang.tasks.progress.ranking import district_community_ids, district_ids, only_district
from lianchuang.tasks.sheets import Column, SheetReader, write_template

GROUP_OF_UNIT_KIND = {UnitKind.stationed_unit: EvaluatorGroup.stationed_units, UnitKind.linked_unit: EvaluatorGroup.stationed_units,
                      UnitKind.mass_org: EvaluatorGroup.mass_orgs, UnitKind.civil_org: EvaluatorGroup.civil_orgs}
MEMBERS_PER_COMMUNITY = 10
TRIM_FROM = 5  # a group with at least this many ballots drops its highest and lowest
OBJECTION_DAYS = 7
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O or 1/I/L: codes are copied by hand and read aloud
CODE_LENGTH = 12  # random characters (about 59 bits), then one check character
GUESSES_AUDITED = 3  # a file with more unknown codes than this looks like guessing: refused and recorded
PRIVATE_BELOW = 3  # evaluators: a smaller group's mean or counts per grade would be one or two people's grades


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
    return [Draft.to_person(person, year, Stage.evaluation, "evaluation_invitation",
                  community_id=evaluator.community_id,
                  context=dict(year=year, community=community, group=evaluator.group.value, code=codes.get(evaluator.id),
                               tasks=tasks.get(evaluator.community_id, []), grades=Grade.labels(), categories=categories,
                               collector=collectors.get(evaluator.community_id) or "社区党组织", deadline=deadline))
            for evaluator, person, community in rows]


def new_code() -> str:
    """A one-time code: CODE_LENGTH random characters and a check character, shown in fours."""
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    code = body + _check_character(body)
    return "-".join(code[start:start + 4] for start in range(0, len(code), 4))


_SHOWN_CODE = re.compile(r"\b(?:[2-9A-HJKMNP-Z]{4}-){3}[2-9A-HJKMNP-Z]\b")  # as new_code shows one


def without_codes(text: str, instead: str = "（评议码只在发给本人的邀请或评议票上，系统不保存）") -> str:
    return _SHOWN_CODE.sub(instead, text or "")


def _check_character(body: str) -> str:
    """Weighted sum modulo 31 (a prime): a mistyped character or two swapped neighbours change it."""
    return CODE_ALPHABET[sum((place + 1) * CODE_ALPHABET.index(c) for place, c in enumerate(body)) % len(CODE_ALPHABET)]


def normalized_code(text: str) -> str:
    """A code as typed, made comparable: full-width letters, digits and spaces from a Chinese IME
    become plain ones (NFKC); spaces and dashes go."""
    return re.sub(r"[\s\-－—]", "", unicodedata.normalize("NFKC", text or "")).upper()


def mistyped(code: str) -> bool:
    """A code of the current form whose check character does not match (a copying slip). Codes of
    another length (issued before codes had a check character) are only looked up."""
    code = normalized_code(code)
    if len(code) != CODE_LENGTH + 1:
        return False
    return any(c not in CODE_ALPHABET for c in code) or _check_character(code[:-1]) != code[-1]


def code_hash(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{normalized_code(code)}".encode()).hexdigest()


def _salt(session: Session, cycle_id: int) -> str:
    cycle = session.get(Cycle, cycle_id)
    if cycle.code_salt is None:
        cycle.code_salt = secrets.token_hex(16)
    return cycle.code_salt


def issue_codes(session: Session, cycle_id: int, evaluator_ids: list[int]) -> dict[int, str]:
    """A new code for each of these evaluators who has not voted, kept only as its salted hash;
    returns the codes to show, once. A code shown before stops working."""
    salt = _salt(session, cycle_id)
    waiting = set()
    for chunk in chunked(evaluator_ids):
        waiting.update(session.scalars(select(Evaluator.id).where(Evaluator.id.in_(chunk), Evaluator.used_at.is_(None))))
    codes = {evaluator_id: new_code() for evaluator_id in evaluator_ids if evaluator_id in waiting}
    if codes:
        session.execute(update(Evaluator), [dict(id=evaluator_id, code_hash=code_hash(salt, code))  # bulk, by primary key
                                            for evaluator_id, code in codes.items()])
    return codes


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
    """Record (row, ballot) pairs. A code is used once (one sitting, one ballot per task); a ballot
    for a task of another community, a second grade for the same task and any ballot after the
    evaluation closed in the task's district are refused. Raises ImportRefused listing every problem;
    writes nothing then."""
    closed = closed_districts(session, cycle_id)
    if closed and closed >= set(district_ids(session)):
        raise UserError("评议已经结束，不能再投票")
    salt = _salt(session, cycle_id)
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
    sittings: dict[int, str] = {}  # one anonymous token per code used here: the ballot box keeps no person
    for number, ballot in ballots:
        evaluator, task = evaluators.get(hashes[ballot.code]), tasks.get(ballot.task_code)
        if mistyped(ballot.code):
            problems.append(Problem(file, number, "评议码", f"评议码 {ballot.code} 有误（可能抄错了一位）：请核对评议票或邀请"))
        elif evaluator is None or evaluator.used_at is not None or task is None or task.community_id != evaluator.community_id:
            # one message whether the code is unknown, used, or another community's: a guess learns nothing
            if evaluator is None or evaluator.used_at is not None:
                unknown.add(ballot.code)
            problems.append(Problem(file, number, "评议码", f"评议码 {ballot.code} 无效、已经用过，或不能评议任务 {ballot.task_code}"
                                                              f"（只能评议本社区的任务）：请核对评议码和任务编号"))
        elif task_districts[task.id] in closed:
            problems.append(Problem(file, number, "任务编号", f"任务 {ballot.task_code} 所在的区评议已经结束，不能再投票"))
        elif (ballot.code, ballot.task_code) in seen:
            problems.append(Problem(file, number, "任务编号", f"同一评议码对任务 {ballot.task_code} 已在第{seen[ballot.code, ballot.task_code]}行评过"))
        else:
            seen[ballot.code, ballot.task_code] = number
            sitting = sittings.setdefault(evaluator.id, secrets.token_hex(8))
            rows.append(dict(cycle_id=cycle_id, sitting=sitting, task_id=task.id, group=evaluator.group, grade=ballot.grade,
                             created_at=day, updated_at=day))
    if len(unknown) > GUESSES_AUDITED:
        raise GuessedCodes(problems, len(unknown), file)
    if problems:
        raise ImportRefused(problems)
    _use_codes(session, sorted(sittings))
    secrets.SystemRandom().shuffle(rows)  # stored in no order that follows the register (or the sheet)
    return insert_ignoring_duplicates(session, Ballot, rows, ["sitting", "task_id"])


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


def _use_codes(session: Session, evaluator_ids: list[int]) -> None:
    """Mark the codes used, each only if still unused (a compare-and-set in the database): of two
    sittings with one code at the same moment, the second finds it used and records nothing."""
    from sqlalchemy.exc import OperationalError

    now, claimed = _today_only(), 0  # the register keeps the day only: used_at and updated_at alike
    try:
        for chunk in chunked(evaluator_ids):
            claimed += session.execute(update(Evaluator).where(Evaluator.id.in_(chunk), Evaluator.used_at.is_(None))
                                       .values(used_at=now, updated_at=now).execution_options(synchronize_session="fetch")).rowcount
    except OperationalError:  # SQLite: another sitting wrote first ("database is locked")
        claimed = -1
    if claimed != len(evaluator_ids):
        raise UserError("评议码刚刚在别处用过了（同时有两次投票）：这次的选票没有记录。请核对后重试")


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


@dataclass(slots=True)
class GroupFigure:
    group: EvaluatorGroup
    ballots: int
    evaluators: int  # distinct people: the quorum counts them, so one person's two ballots are one voice
    mean: float
    trimmed: bool
    counted: bool
    by_grade: dict


def _group_rows(cycle_id: int, subject, where=None, by_grade: bool = False) -> Select:
    """Per subject (Ballot.task_id, or Task.responsible_person_id for people) and group: ballots,
    distinct evaluators, the trimmed mean of the points and, with by_grade, ballots per grade."""
    # Plain strings for group and grade: converting half a million enum values costs seconds.
    per_task = subject is Ballot.task_id  # one ballot per evaluator and task (unique key)
    evaluator = [] if per_task else [Ballot.sitting.label("evaluator")]
    points = (select(subject.label("subject"), *evaluator, type_coerce(Ballot.group, String).label("grp"),
                     type_coerce(Ballot.grade, String).label("grade"),
                     GradePoint.points.label("points"),
                     func.row_number().over(partition_by=[subject, Ballot.group], order_by=[GradePoint.points, Ballot.id]).label("rank"),
                     func.count().over(partition_by=[subject, Ballot.group]).label("n"))
              .select_from(Ballot)
              .join(GradePoint, and_(GradePoint.cycle_id == Ballot.cycle_id, GradePoint.grade == Ballot.grade))
              .where(Ballot.cycle_id == cycle_id, subject.is_not(None)))
    if subject.class_ is Task:
        points = points.join(Task, Task.id == Ballot.task_id)
    if where is not None:
        points = points.where(where)
    points = points.subquery()
    kept = case((and_(points.c.n >= TRIM_FROM, (points.c.rank == 1) | (points.c.rank == points.c.n)), None),
                else_=points.c.points)
    per_grade = [func.sum(case((points.c.grade == grade, 1), else_=0)).label(grade.value) for grade in Grade] if by_grade else []
    # Counting distinct people is only needed, and only paid for, where one person's ballots on
    # several tasks meet (a responsible person); for a task, ballots are people.
    evaluators = func.count() if per_task else func.count(distinct(points.c.evaluator))
    return (select(points.c.subject, points.c.grp, func.count().label("ballots"), evaluators.label("evaluators"),
                   func.avg(kept).label("mean"), *per_grade)
            .group_by(points.c.subject, points.c.grp))


def group_figures(session: Session, cycle_id: int, subject, where=None, by_grade: bool = False) -> dict[int, list[GroupFigure]]:
    """Per subject, each group's ballots, its trimmed mean and whether it reached its quorum, in one
    SQL pass; with by_grade, the ballots per grade too (for explaining one subject)."""
    rows = session.execute(_group_rows(cycle_id, subject, where, by_grade))
    quorum = {group.value: count for group, count in session.execute(
        select(GroupWeight.group, GroupWeight.quorum).where(GroupWeight.cycle_id == cycle_id))}
    groups = {group.value: group for group in EvaluatorGroup}
    figures = defaultdict(list)
    for subject_id, group, count, evaluators, mean, *grades in rows:
        figures[subject_id].append(GroupFigure(groups[group], count, evaluators, float(mean), count >= TRIM_FROM,
                                               evaluators >= needed_voters(group, quorum.get(group, 1)),
                                               dict(zip(Grade, grades)) if by_grade else {}))
    return figures


def needed_voters(group: str, quorum: int) -> int:
    """How many people a group needs for its mean to count: its quorum, and for a secret group at
    least SECRET_GROUP_MINIMUM (a scheme from before the rule may say fewer)."""
    return quorum if group == EvaluatorGroup.joint_head.value else max(quorum, SECRET_GROUP_MINIMUM)


def weighted_scores(cycle_id: int, subject):
    """A subquery, per subject: ballots, and the sums of weight × mean and of weight over the groups
    in quorum; score = their ratio, None when no group is in quorum (see `score_of`). All in the
    database: a province's 900,000 group rows need not travel to Python (`combine` is the same rule,
    for explaining one subject)."""
    groups = _group_rows(cycle_id, subject).subquery()
    weight = aliased(GroupWeight)
    quorum = func.coalesce(weight.quorum, 1)
    needed = case((groups.c.grp == EvaluatorGroup.joint_head.value, quorum), (quorum > SECRET_GROUP_MINIMUM, quorum),
                  else_=SECRET_GROUP_MINIMUM)  # needed_voters, in SQL
    counted = groups.c.evaluators >= needed
    return (select(groups.c.subject, func.sum(groups.c.ballots).label("ballots"),
                   func.sum(case((counted, func.coalesce(weight.weight, 0) * groups.c.mean), else_=0)).label("total"),
                   func.sum(case((counted, func.coalesce(weight.weight, 0)), else_=0)).label("weights"))
            .outerjoin(weight, and_(weight.cycle_id == cycle_id, type_coerce(weight.group, String) == groups.c.grp))
            .group_by(groups.c.subject).subquery())


def score_of(total, weights) -> float | None:
    return round(float(total) / float(weights), 1) if weights else None


def combine(figures: list[GroupFigure], weights: dict[EvaluatorGroup, float]) -> float | None:
    """The weighted mean of the counted groups' means, weights renormalised over them."""
    counted = [(weights.get(f.group, 0.0), f.mean) for f in figures if f.counted]
    total = sum(w for w, _ in counted)
    return round(sum(w * m for w, m in counted) / total, 1) if total else None


def _weights(session: Session, cycle_id: int) -> dict[EvaluatorGroup, float]:
    return dict(session.execute(select(GroupWeight.group, GroupWeight.weight).where(GroupWeight.cycle_id == cycle_id)).all())


def task_scores(session: Session, cycle_id: int, district_id: int | None = None) -> list[dict]:
    """Every task's (of a district, if given) ballots and score (None: not rated), as rows of EvaluationResult."""
    scores = weighted_scores(cycle_id, Ballot.task_id)
    query = (select(Task.id, scores.c.ballots, scores.c.total, scores.c.weights)
             .outerjoin(scores, scores.c.subject == Task.id).where(Task.cycle_id == cycle_id))
    if district_id is not None:
        query = query.where(Task.community_id.in_(district_community_ids(district_id)))
    rows = session.execute(query)
    return [dict(cycle_id=cycle_id, task_id=task_id, ballots=int(ballots or 0), score=score_of(total, weights))
            for task_id, ballots, total, weights in rows]


def tally(session: Session, cycle_id: int, district_id: int | None = None) -> int:
    """Score every task and every responsible person of the district (see the module doc); returns
    the tasks rated. Done once: a second call returns the stored figure."""
    district_id = only_district(session, district_id, CLOSED_BY_DISTRICT)
    its_tasks = select(Task.id).where(Task.cycle_id == cycle_id, Task.community_id.in_(district_community_ids(district_id)))
    stored = (EvaluationResult.cycle_id == cycle_id, EvaluationResult.task_id.in_(its_tasks))
    if session.scalar(select(func.count()).where(*stored)):
        return session.scalar(select(func.count()).where(*stored, EvaluationResult.score.is_not(None)))
    results = task_scores(session, cycle_id, district_id)
    if not results:
        return 0
    insert_new(session, EvaluationResult, results)  # none exist yet: checked above, in this transaction
    scores = weighted_scores(cycle_id, Task.responsible_person_id)
    task_counts = (select(Task.responsible_person_id.label("person_id"), func.count().label("tasks"))
                   .where(Task.cycle_id == cycle_id, Task.responsible_person_id.is_not(None),
                          Task.community_id.in_(district_community_ids(district_id)))
                   .group_by(Task.responsible_person_id).subquery())
    people = [dict(cycle_id=cycle_id, person_id=person_id, tasks=tasks, ballots=int(ballots or 0), score=score_of(total, weights))
              for person_id, tasks, ballots, total, weights in session.execute(
                  select(task_counts.c.person_id, task_counts.c.tasks, scores.c.ballots, scores.c.total, scores.c.weights)
                  .outerjoin(scores, scores.c.subject == task_counts.c.person_id))]
    insert_new(session, PersonResult, people)
    return sum(r["score"] is not None for r in results)


def close(session: Session, cycle_id: int, today: date, district_id: int | None = None) -> int:
    """End a district's evaluation: tally, reveal the results, open the objection period. Returns tasks rated."""
    district_id = only_district(session, district_id, CLOSED_BY_DISTRICT)
    rated = tally(session, cycle_id, district_id)
    insert_ignoring_duplicates(session, DistrictEvaluation, [dict(
        cycle_id=cycle_id, district_id=district_id, closed_on=today,
        objection_deadline=date.fromordinal(today.toordinal() + OBJECTION_DAYS))], ["cycle_id", "district_id"])
    return rated


def _may_show(figure: GroupFigure) -> bool:
    """A group's mean is shown when it cannot be one or two people's grades: three evaluators or
    more. The joint-meeting head is one person by design and grades openly, in their office."""
    return figure.evaluators >= PRIVATE_BELOW or figure.group == EvaluatorGroup.joint_head


def explain(session: Session, cycle_id: int, subject_code: str) -> dict:
    """How a task's or a responsible person's score was reached, group by group. A group of fewer
    than three evaluators shows neither its mean nor its counts per grade, so no grade can be traced
    to a person (the joint-meeting head's open ballot aside, see `_may_show`)."""
    task = session.scalars(select(Task).where(Task.cycle_id == cycle_id, Task.code == subject_code)).first()
    person = None if task else session.scalars(select(Person).where(Person.code == subject_code)).first()
    if task is None and (person is None or person.community_id is None):
        raise UserError(f"没有编号为“{subject_code}”的任务或人员")
    if not closed_on(session, cycle_id, district_of_community(session, task.community_id if task else person.community_id)):
        raise UserError("评议尚未结束，结果不公开：结束后（lianchuang evaluate close）才能查看")
    subject = Ballot.task_id if task else Task.responsible_person_id
    subject_id = task.id if task else person.id
    figures = group_figures(session, cycle_id, subject, subject == subject_id, by_grade=True)[subject_id]
    weights = _weights(session, cycle_id)
    counted_weight = sum(weights[f.group] for f in figures if f.counted)
    quorum = dict(session.execute(select(GroupWeight.group, GroupWeight.quorum).where(GroupWeight.cycle_id == cycle_id)).all())
    groups = [dict(group=f.group.label, ballots=f.ballots, evaluators=f.evaluators, quorum=needed_voters(f.group.value, quorum[f.group]),
                   counted=f.counted, trimmed=f.trimmed, open=f.group == EvaluatorGroup.joint_head,
                   mean=round(f.mean, 1) if _may_show(f) else None, weight=weights[f.group],
                   share=round(weights[f.group] / counted_weight, 3) if f.counted and counted_weight else 0.0,
                   by_grade={g.label: n for g, n in f.by_grade.items()} if f.evaluators >= PRIVATE_BELOW else None)
              for f in sorted(figures, key=lambda f: list(EvaluatorGroup).index(f.group))]
    name = f"{task.code} {task.title}" if task else f"{person.name}（负责的全部任务）"
    return dict(subject=name, groups=groups, score=combine(figures, weights), trim_from=TRIM_FROM)


def record_objection(session: Session, cycle_id: int, subject_code: str, submitted_by: str, content: str, on: date) -> Objection:
    """Record an objection to a published result; one after the deadline is recorded as late."""
    if not submitted_by.strip() or not content.strip():
        raise UserError("请填写异议人（--by）和异议内容（--content）")
    if len(submitted_by.strip()) > 64:
        raise UserError(f"异议人（--by）最多 64 个字，现在有 {len(submitted_by.strip())} 个字")
    task = session.scalars(select(Task).where(Task.cycle_id == cycle_id, Task.code == subject_code)).first()
    person = None if task else session.scalars(select(Person).where(Person.code == subject_code)).first()
    if task is None and (person is None or person.community_id is None):
        raise UserError(f"没有编号为“{subject_code}”的任务或责任人")
    community_id = task.community_id if task else person.community_id
    closed = closing(session, cycle_id, district_of_community(session, community_id))
    if closed is None:
        raise UserError("评议结果还没有公示，暂不受理异议")
    objection = Objection(cycle_id=cycle_id, community_id=community_id,
                          subject=subject_code, submitted_by=submitted_by.strip(), content=content.strip(), received_on=on,
                          within_deadline=on <= closed.objection_deadline)
    session.add(objection)
    session.flush()
    return objection


