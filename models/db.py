"""Engine, sessions and schema upgrades. SQLite (WAL, busy timeout) by default, PostgreSQL by URL."""

import re
from collections import namedtuple
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.orm import Session

from lianchuang.models.base import Base


def normalise_url(url: str) -> str:
    """Plain postgresql:// URLs use psycopg 3, the driver this project installs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def engine() -> Engine:
    from lianchuang.settings import get_settings

    return get_engine(get_settings().db_url)


@contextmanager
def session_scope() -> Iterator[Session]:
    """One transaction: everything inside commits together or not at all. A write PostgreSQL's
    row-level security refuses (a user outside their scope, tasks/access.py) is said in Chinese."""
    from sqlalchemy.exc import DBAPIError

    try:
        with Session(engine(), expire_on_commit=False) as session, session.begin():
            yield session
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != "42501":  # insufficient_privilege
            raise
        raise _refused(error) from None


TABLE_WORDS = {"progress_report": "进度报告", "task": "任务", "milestone": "实施步骤", "committed_milestone": "承诺的实施步骤",
               "opinion": "意见建议", "objection": "异议", "monthly_ranking": "月度排名", "ranking_overdue_task": "月度排名",
               "award_result": "创新奖和经费", "ranking_correction": "排名更正", "ranking_audit": "排名数据核查",
               "district_evaluation": "考评", "rule_scheme": "排名和评奖规则", "app_user": "数据库用户",
               "stage_state": "各阶段进度", "commitment": "责任状和承诺书", "post": "岗位", "post_claim": "岗位认领",
               "ballot": "评议票", "evaluator": "评议人名单", "evaluation_result": "考评结果", "superseded_ranking": "月度排名",
               "meeting": "联席会议", "task_co_unit": "协办单位", "evaluation_item": "考评项目", "group_weight": "考评权重",
               "grade_point": "等次分值", "person_result": "个人考评结果", "cycle": "年度", "notice": "通知", "notice_body": "通知正文",
               "audit_entry": "操作记录", "chat_channel": "群机器人", "chat_message": "群消息",
               **dict.fromkeys(("district", "street", "community", "unit", "person"), "组织架构")}


def _refused(error) -> Exception:
    from lianchuang.errors import UserError

    found = re.search(r'(?:table|relation) "?(\w+)"?', str(error.orig))
    what = TABLE_WORDS.get(found.group(1), found.group(1)) if found else "这些数据"
    login = engine().url.username or ""
    return UserError(f"没有权限：数据库用户 {login} 不能修改自己负责范围以外的{what}（区级联络人管全区，街道联络人管本街道的社区，"
                     f"社区联络人管本社区，单位联络员只报告本单位牵头的任务；排名、更正、考评和评奖只由区级联络人做）。"
                     f"这次什么都没有写入。各用户的范围：lianchuang users list")


@contextmanager
def preview_scope() -> Iterator[Session]:
    """A transaction that is always rolled back: what a step would do, computed by the step's own
    code (for an approval preview), with nothing kept."""
    with Session(engine(), expire_on_commit=False) as session, session.begin() as transaction:
        try:
            yield session
        finally:
            transaction.rollback()


def chunked(values: Iterable, size: int = 900) -> Iterator[list]:
    """Slices of a long list for `IN (...)`: SQLite allows at most 999 parameters in older builds."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def plain_rows(session: Session, statement):
    """The rows of a SELECT of plain columns, read at the Core level, in the session's transaction:
    the ORM's row loading costs ~20% more (0.25 s on a province's 150,000 tasks)."""
    return session.connection().execute(statement)


def tuple_rows(session: Session, statement) -> list:
    """plain_rows as a list of named tuples: a SQLAlchemy Row reads a field by name ~10x slower
    than a named tuple does (0.47 μs against 0.05 μs), and a province's board reads 150,000 tasks'
    17 fields (1.2 s, against 0.03 s to make the tuples)."""
    result = plain_rows(session, statement)
    return list(map(namedtuple("Row", result.keys())._make, result))


def insert_ignoring_duplicates(session: Session, model: type[Base], rows: Iterable[dict], keys: list[str]) -> int:
    """Bulk INSERT ... ON CONFLICT (keys) DO NOTHING on SQLite and PostgreSQL; returns rows inserted."""
    rows = list(rows)
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    batches: dict[tuple, list[dict]] = {}
    for row in rows:  # executemany needs the same keys in every row of a batch
        batches.setdefault(tuple(sorted(row)), []).append(row)
    # A plain executemany, whose row count both drivers sum over the rows (only those inserted) when
    # asked to keep it: on PostgreSQL ~3x faster than RETURNING, whose batches psycopg parses anew.
    statement = insert(model.__table__).on_conflict_do_nothing(index_elements=keys).execution_options(preserve_rowcount=True)
    return sum(session.execute(statement, same_keys).rowcount for same_keys in batches.values())


def insert_new(session: Session, model: type[Base], rows: list[dict]) -> None:
    """Insert rows known to be new with a Core executemany: on PostgreSQL ~5x faster than
    insert_ignoring_duplicates (ON CONFLICT ... RETURNING) for 150,000 rows."""
    if rows:
        session.execute(model.__table__.insert(), rows)


# ---- schema ----

def alembic_config(url: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("lianchuang") / "migrations"))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade_database(url: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(url), "head")


def head_revision() -> str:
    """The newest migration, read from the file names (`0007_….py`): the alembic script directory
    would load every migration, 0.15 s on each command."""
    versions = files("lianchuang") / "migrations" / "versions"
    return max(entry.name.split("_")[0] for entry in versions.iterdir() if entry.name[:4].isdigit())


def current_revision(url: str) -> str | None:
    """The revision the database is at, or None for a database without the app's schema."""
    from sqlalchemy import text

    with get_engine(url).connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def schema_state(url: str) -> str:
    """'empty', 'current' or 'outdated' for the database at `url`."""
    current = current_revision(url)
    return "empty" if current is None else "current" if current == head_revision() else "outdated"


def drop_everything(url: str) -> None:
    """Drop every table of the app and the migration record (used by `demo --fresh` and tests)."""
    from sqlalchemy import text

    eng = get_engine(url)
    Base.metadata.drop_all(eng)
    with eng.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
