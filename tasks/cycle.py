"""The yearly cycle: scoping by community, stage states, and the audit trail."""

import json
from collections.abc import Iterable
from functools import lru_cache

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lianchuang import clock
from lianchuang.errors import UserError
from lianchuang.models import AuditEntry, Community, Cycle, StageState
from lianchuang.models.db import chunked, insert_ignoring_duplicates
from lianchuang.models.enums import Stage, StageStatus
from lianchuang.models.queries import district_ids


def ensure_cycle(session: Session, year: int) -> Cycle:
    if not 2000 <= year <= 2100:
        raise UserError(f"年份 {year} 不合理：请输入四位年份，例如 --year {clock.today().year}")
    insert_ignoring_duplicates(session, Cycle, [{"year": year}], ["year"])
    return _locked(session, session.scalars(select(Cycle).where(Cycle.year == year)).one())


def _locked(session: Session, cycle: Cycle) -> Cycle:
    """Hold the year's row until the transaction ends: a step run twice at once for the year (two
    workers, the schedule and a coordinator) waits for the first and then finds its work done.
    PostgreSQL: SELECT … FOR UPDATE; SQLite: its one write lock, taken by a write that changes nothing."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Cycle.id).where(Cycle.id == cycle.id).with_for_update())
    else:
        session.execute(update(Cycle).where(Cycle.id == cycle.id).values(year=Cycle.year))
    session.refresh(cycle)  # as the run before this one left it
    return cycle


def existing_cycle(session: Session, year: int, lock: bool = False) -> Cycle:
    """The year's cycle; with lock, held for the rest of the transaction (steps that write)."""
    cycle = session.scalars(select(Cycle).where(Cycle.year == year)).first()
    if cycle is not None and lock:
        return _locked(session, cycle)
    if cycle is None:
        years = session.scalars(select(Cycle.year).order_by(Cycle.year)).all()
        if years:  # most likely the wrong year: never advise starting a year, which emails everyone
            raise UserError(f"还没有 {year} 年度的工作周期（已有：{'、'.join(map(str, years))} 年度）。"
                            f"处理 {years[-1]} 年度请加 --year {years[-1]}")
        raise UserError(f"还没有 {year} 年度的工作周期：请先运行 `lianchuang opinions open --year {year}` 开始这一年")
    return cycle


def communities_in_scope(session: Session, codes_or_names: Iterable[str] | None = None) -> list[Community]:
    """Every community, or those named (org.resolve: a code, a name only one has, or a qualified
    name such as 列东街道/江滨社区), a street or a district standing for all its communities; an
    unknown or shared name is a user error naming the candidates."""
    from lianchuang.models import District, Street
    from lianchuang.tasks.org import resolve

    communities = list(session.scalars(select(Community).order_by(Community.code)))
    if not communities:
        raise UserError("数据库里还没有社区：请先用 `lianchuang org import 文件.xlsx` 导入组织架构，或运行 `lianchuang demo`")
    wanted = {c.strip() for c in (codes_or_names or []) if c and c.strip()}
    if not wanted:
        return communities
    chosen, why_not = {}, {}
    for model, members in ((Community, lambda row: [row]), (Street, lambda row: row.communities),
                           (District, lambda row: [c for street in row.streets for c in street.communities])):
        found, missing = resolve(session, model, wanted - set(chosen))
        for text, row in found.items():
            chosen[text] = members(row)
        for text, reason in missing.items():  # a shared community name is the answer, not "try a street"
            why_not.setdefault(text, reason)
    left = sorted(wanted - set(chosen))
    shared = [why_not[text] for text in left if getattr(why_not.get(text), "shared", False)]
    if shared:
        raise UserError("；".join(shared))
    if left:
        raise UserError(f"找不到社区、街道或区：{'、'.join(left)}（用 `lianchuang org list` 查看已导入的组织架构）")
    return sorted({c.id: c for rows in chosen.values() for c in rows}.values(), key=lambda c: c.code)


def districts_in_scope(session: Session, codes_or_names: Iterable[str] | None = None) -> list:
    """The districts of the communities in scope (every district: None): a month's ranking, the
    evaluation and the award each belong to a district, which runs them on its own calendar."""
    from lianchuang.models import District, Street

    street_ids = {c.street_id for c in communities_in_scope(session, codes_or_names)}
    return list(session.scalars(select(District).where(
        District.id.in_(select(Street.district_id).where(Street.id.in_(street_ids)))).order_by(District.code)))


def one_district(session: Session, codes_or_names: Iterable[str] | None, what: str):
    """The one district in scope (for a step that is a single district's), else a user error saying so."""
    chosen = districts_in_scope(session, codes_or_names)
    if len(chosen) != 1:
        raise UserError(f"{what}：请用 --district 指明是哪个区（{'、'.join(d.name for d in chosen)}）")
    return chosen[0]


def set_stage(session: Session, cycle: Cycle, community_ids: Iterable[int], stage: Stage, status: StageStatus) -> None:
    """Record where communities stand in a stage; a stage marked done stays done."""
    ids = list(community_ids)
    insert_ignoring_duplicates(session, StageState, [
        {"cycle_id": cycle.id, "community_id": i, "stage": stage, "status": StageStatus.not_started} for i in ids
    ], ["cycle_id", "community_id", "stage"])
    for chunk in chunked(ids):
        session.execute(update(StageState).where(
            StageState.cycle_id == cycle.id, StageState.stage == stage, StageState.status != StageStatus.done,
            StageState.community_id.in_(chunk),
        ).values(status=status, done_at=clock.now() if status == StageStatus.done else None))


STARTED_BY = "发起人:"  # the tag naming who started a run from the command line
RAN_AS = "执行账号:"  # the tag naming the login a run from the UI or a schedule ran as


def current_actor() -> str:
    """Who is acting: on PostgreSQL, the app user the connection verifiably logged in as (issue 33:
    not whatever a setting says); else the `actor` setting, else the login name of the process."""
    import getpass

    from lianchuang.settings import get_settings

    verified = _verified_actor(get_settings().db_url)
    if verified:
        return verified
    try:
        return (get_settings().actor or getpass.getuser())[:64]
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "system"


@lru_cache(maxsize=8)
def _verified_actor(url: str) -> str | None:
    """"Name（login）" of the app user this database URL logs in as, if it is one."""
    from lianchuang.models.db import get_engine
    from lianchuang.tasks.access import verified_user

    if not url.startswith(("postgresql", "postgres")):
        return None
    from sqlalchemy.exc import DBAPIError

    try:
        with Session(get_engine(url)) as session:
            user = verified_user(session)
    except DBAPIError:  # a database from before app_user (its upgrade is asked for elsewhere)
        return None
    return f"{user.name[:62 - len(user.login)]}（{user.login}）" if user else None  # the login whole: the audit policy checks it


def audit(session: Session, action: str, entity: str, actor: str | None = None, **detail) -> None:
    session.add(AuditEntry(at=clock.now(), actor=actor or current_actor(), action=action, entity=entity,
                           detail=json.dumps(detail, ensure_ascii=False, default=str)))


def stage_overview_of(year: int) -> list[dict]:
    """`cycle status`: where every community stands in each stage."""
    from lianchuang.models.db import session_scope
    from lianchuang.models.queries import stage_overview

    with session_scope() as session:
        return stage_overview(session, existing_cycle(session, year))


def year_summary(year: int) -> dict:
    """`report summary`: the year's figures, from suggestions to funding."""
    from lianchuang.models.db import session_scope
    from lianchuang.models.queries import summary

    with session_scope() as session:
        return summary(session, existing_cycle(session, year))


def only_district(session: Session, district_id: int | None, what: str = "排名按区发布和更正") -> int:
    """The district meant: the one given, else the database's only one."""
    if district_id is not None:
        return district_id
    ids = district_ids(session)
    if len(ids) != 1:
        raise UserError(f"数据库里有 {len(ids)} 个区，{what}：请用 --district 指明是哪个区")
    return ids[0]


def competition_ranks(items: list[dict], score_key: str = "score") -> list[int]:
    """Ranks by descending score; equal scores share a rank (1, 1, 3)."""
    ordered = sorted(range(len(items)), key=lambda i: -items[i][score_key])
    ranks = [0] * len(items)
    for position, index in enumerate(ordered):
        previous = ordered[position - 1] if position else None
        same = previous is not None and items[previous][score_key] == items[index][score_key]
        ranks[index] = ranks[previous] if same else position + 1
    return ranks
