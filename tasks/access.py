"""Roles per level, enforced by PostgreSQL itself (issue 33). Each coordinator gets a database login
(`users add`), a member of the group role `lianchuang_user`; row-level security lets that login read
everything but write only the rows of its scope, checked against the verified `session_user`, so a
street coordinator's write to another street's rows fails from the CLI, from a flow run and from raw
SQL alike. The database's owner (the administrator's login) is not bound by the policies. SQLite is
the single-user embedded default: it has no logins, and `users add` says so."""

import secrets

from sqlalchemy import func, literal_column, select, text
from sqlalchemy.orm import Session

from lianchuang.errors import UserError
from lianchuang.models import AppUser, Community, District, Person, Street, Unit
from lianchuang.models.enums import UserRole

GROUP = "lianchuang_user"

# Which rows each table's writes belong to, and the level that may write them: "district" (the
# district coordinator), "community" (its district's, street's or community's coordinator) or
# "report" (those, or the liaison of the task's lead unit).
COMMUNITY_OF_TASK = "(SELECT community_id FROM task WHERE task.id = task_id)"
UNIT_OF_TASK = "(SELECT lead_unit_id FROM task WHERE task.id = task_id)"


def notice_scope(notice: str = "") -> str:
    """The notices one may queue or send: of one's scope (or of no community), and one carrying a
    voting code only in one's own district. `notice`: the table's alias with its dot, if any."""
    return (f"({notice}community_id IS NULL OR lianchuang_may_write({notice}community_id, 'community', NULL)) "
            f"AND ({notice}secret IS NULL OR lianchuang_may_write({notice}community_id, 'district', NULL))")


NOTICE_SECRET = "lianchuang_may_write(community_id, 'district', NULL)"
NOTICE_SCOPE = notice_scope()
BODY_SCOPE = f"EXISTS (SELECT 1 FROM notice n WHERE n.id = notice_body.id AND {notice_scope('n.')})"
CHANNEL_OF_MESSAGE = ("lianchuang_may_write_place((SELECT level FROM chat_channel WHERE chat_channel.id = channel_id), "
                      "(SELECT place_code FROM chat_channel WHERE chat_channel.id = channel_id))")
SCOPED_TABLES = {
    "progress_report": f"lianchuang_may_write({COMMUNITY_OF_TASK}, 'report', {UNIT_OF_TASK})",
    "task": "lianchuang_may_write(community_id, 'community', NULL)",
    "milestone": f"lianchuang_may_write({COMMUNITY_OF_TASK}, 'community', NULL)",
    "committed_milestone": f"lianchuang_may_write({COMMUNITY_OF_TASK}, 'community', NULL)",
    "opinion": "lianchuang_may_write(community_id, 'community', NULL)",
    "objection": "lianchuang_may_write(community_id, 'community', NULL)",
    "monthly_ranking": "lianchuang_may_write(community_id, 'district', NULL)",
    "ranking_overdue_task": f"lianchuang_may_write({COMMUNITY_OF_TASK}, 'district', NULL)",
    "award_result": "lianchuang_may_write(community_id, 'district', NULL)",
    "ranking_correction": "lianchuang_may_write_district(district_id)",
    "ranking_audit": "lianchuang_may_write_district(district_id)",
    "district_evaluation": "lianchuang_may_write_district(district_id)",
    "rule_scheme": "lianchuang_may_write_district(district_id)",
    "commitment": "lianchuang_may_write(community_id, 'community', NULL)",
    "post": "lianchuang_may_write(community_id, 'community', NULL)",
    "post_claim": "lianchuang_may_write((SELECT community_id FROM post WHERE post.id = post_id), 'community', NULL)",
    "stage_state": "lianchuang_may_write(community_id, 'community', NULL)",
    "ballot": f"lianchuang_may_write({COMMUNITY_OF_TASK}, 'community', NULL)",
    "evaluator": "lianchuang_may_write(community_id, 'district', NULL)",  # the ballots' register
    "evaluation_result": f"lianchuang_may_write({COMMUNITY_OF_TASK}, 'district', NULL)",
    "chat_channel": "lianchuang_may_write_place(level, place_code)",
    "superseded_ranking": "lianchuang_may_write(community_id, 'district', NULL)",
    "meeting": "lianchuang_may_write(community_id, 'community', NULL)",
    "task_co_unit": f"lianchuang_may_write({COMMUNITY_OF_TASK}, 'community', NULL)",
    # the year's evaluation scheme, shared by a province's districts (its weights and grade points
    # decide the money), and the results of named people: a district coordinator's
    **dict.fromkeys(("evaluation_item", "group_weight", "grade_point", "person_result"), "lianchuang_is_district_user()"),
    # who may do what, and the tree the scopes are read from, are the administrator's to change
    **dict.fromkeys(("app_user", "district", "street", "community", "unit", "person"), "false"),
}
# Tables with policies of their own: (name, command, rule) each.
SPECIAL_POLICIES = {
    # The audit trail: anyone may add an entry, only in their own name (the actor names the verified
    # login, tasks/cycle.current_actor), and no one may change or delete one.
    "audit_entry": [("lianchuang_read", "SELECT", "USING (true)"),
                    ("lianchuang_write", "INSERT", "WITH CHECK (actor LIKE '%（' || session_user || '）')")],
    # The year: any command may start it; its ballot-code salt is set by a district coordinator only.
    "cycle": [("lianchuang_read", "SELECT", "USING (true)"), ("lianchuang_write", "INSERT", "WITH CHECK (true)"),
              ("lianchuang_change", "UPDATE", "USING (lianchuang_is_district_user())")],
    # The outbox: a notice carrying a voting code is seen only by its district's coordinators (who
    # open the evaluation and send it); any other is read by all. A notice is queued or sent (its
    # status changed) within one's scope; one for no community (district-wide) by anyone.
    "notice": [("lianchuang_read", "SELECT", f"USING (secret IS NULL OR {NOTICE_SECRET})"),
               ("lianchuang_write", "ALL", f"USING ({NOTICE_SCOPE}) WITH CHECK ({NOTICE_SCOPE})")],
    # A notice's text and HTML: read and written as its notice is (the subquery is under notice's policies).
    "notice_body": [("lianchuang_read", "SELECT", "USING (EXISTS (SELECT 1 FROM notice WHERE notice.id = notice_body.id))"),
                    ("lianchuang_write", "ALL", f"USING ({BODY_SCOPE}) WITH CHECK ({BODY_SCOPE})")],
    # A group chat's bot is set up and changed by the coordinators over its place; a step of anyone
    # queues messages to any group (a street's reminder goes to its communities' groups), but only
    # those over a group's place send or change its messages.
    "chat_message": [("lianchuang_read", "SELECT", "USING (true)"), ("lianchuang_write", "INSERT", "WITH CHECK (true)"),
                     ("lianchuang_change", "UPDATE", f"USING ({CHANNEL_OF_MESSAGE})"),
                     ("lianchuang_remove", "DELETE", f"USING ({CHANNEL_OF_MESSAGE})")],
}

FUNCTIONS = """
CREATE OR REPLACE FUNCTION lianchuang_may_write(target_community integer, level text, lead_unit integer)
RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT EXISTS (
    SELECT 1 FROM app_user u, community c JOIN street s ON s.id = c.street_id
    WHERE u.login = session_user AND c.id = target_community AND (
      (u.role = 'district' AND u.district_id = s.district_id)
      OR (level <> 'district' AND u.role = 'street' AND u.street_id = c.street_id)
      OR (level <> 'district' AND u.role = 'community' AND u.community_id = c.id)
      OR (level = 'report' AND u.role = 'unit' AND u.unit_id = lead_unit)))
$$;
CREATE OR REPLACE FUNCTION lianchuang_is_district_user()
RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT EXISTS (SELECT 1 FROM app_user u WHERE u.login = session_user AND u.role = 'district')
$$;
CREATE OR REPLACE FUNCTION lianchuang_may_write_district(target_district integer)
RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT EXISTS (SELECT 1 FROM app_user u WHERE u.login = session_user AND u.role = 'district'
                 AND u.district_id = target_district)
$$;
CREATE OR REPLACE FUNCTION lianchuang_may_write_place(place_level text, place_code text)
RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT CASE place_level
    WHEN 'community' THEN lianchuang_may_write((SELECT c.id FROM community c WHERE c.code = place_code), 'community', NULL)
    WHEN 'street' THEN EXISTS (SELECT 1 FROM app_user u, street s WHERE u.login = session_user AND s.code = place_code
                               AND ((u.role = 'district' AND u.district_id = s.district_id) OR (u.role = 'street' AND u.street_id = s.id)))
    WHEN 'district' THEN lianchuang_may_write_district((SELECT d.id FROM district d WHERE d.code = place_code))
    ELSE false END
$$;
"""


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def ensure_policies(session: Session) -> None:
    """The group role, its grants, the scope functions and a read-all and a scoped-write policy per
    table (idempotent: run by every `users add`, so tables added since are covered)."""
    session.execute(text(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{GROUP}') "
                         f"THEN CREATE ROLE {GROUP} NOLOGIN; END IF; END $$"))
    session.execute(text(f"GRANT USAGE ON SCHEMA public TO {GROUP}"))
    session.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {GROUP}"))
    session.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {GROUP}"))
    session.execute(text(f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {GROUP}"))
    session.execute(text(FUNCTIONS))
    policies = {table: [("lianchuang_read", "SELECT", "USING (true)"),
                        ("lianchuang_write", "ALL", f"USING ({may_write}) WITH CHECK ({may_write})")]
                for table, may_write in SCOPED_TABLES.items()} | SPECIAL_POLICIES
    for table, rules in policies.items():
        session.execute(text(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
        for name, *_ in rules:
            session.execute(text(f"DROP POLICY IF EXISTS {name} ON {table}"))
        for name, command, rule in rules:
            session.execute(text(f"CREATE POLICY {name} ON {table} FOR {command} TO {GROUP} {rule}"))


def refresh_policies(session: Session) -> bool:
    """After a schema upgrade, where users exist: the policies again, so new tables are covered (a
    table a migration added is denied to every user until then). Returns whether it ran."""
    if not is_postgres(session) or not session.scalar(select(func.count()).select_from(AppUser)):
        return False
    ensure_policies(session)
    return True


def add_user(session: Session, name: str, role: UserRole, place: str | None, login: str | None) -> tuple[AppUser, str]:
    """A login for `name` (a person of the org where there is one) acting for `place` (its code or
    name: a district, street, community or unit by role; by default the person's own); returns the
    user and the password to hand over."""
    from lianchuang.tasks.org import resolve

    if not is_postgres(session):
        raise UserError("SQLite 是单用户的嵌入式数据库，没有数据库用户：分级权限需要 PostgreSQL（设置 LIANCHUANG_DATABASE_URL=postgresql://…，"
                        "再运行 lianchuang db upgrade）。单用户使用时不需要添加用户。")
    _only_the_administrator(session)
    person = session.scalars(select(Person).where(Person.name == name.strip()).order_by(Person.code)).first()
    scope = SCOPE[role]
    column = f"{scope.__tablename__}_id"
    if place:
        found, missing = resolve(session, scope, [place])
        if place.strip() not in found:
            raise UserError(f"找不到{word_of(scope)}“{place}”：{role.label}的范围填{word_of(scope)}的编码或名称（lianchuang org list 可查）")
        place_id = found[place.strip()].id
    else:
        place_id = getattr(person, column, None) if person else None
        if place_id is None:
            raise UserError(f"请用 --{scope.__tablename__} 指定{name}负责的{word_of(scope)}（编码或名称）")
    login = (login or _login_for(person, name)).lower()
    if not login.replace("_", "").isalnum() or not login.isascii() or len(login) > 63:
        raise UserError(f"数据库用户名“{login}”只能用英文字母、数字和下划线（不超过63个字符），例如 --login lc_jiangbin")
    if session.scalar(select(AppUser.id).where(AppUser.login == login)):
        raise UserError(f"数据库用户 {login} 已经存在：lianchuang users list 查看；要重建先 lianchuang users remove {login}")
    ensure_policies(session)
    password = secrets.token_urlsafe(12)
    if session.scalar(text("SELECT count(*) FROM pg_roles WHERE rolname = :login"), {"login": login}):
        raise UserError(f"数据库里已有名为 {login} 的登录（可能是别的系统的）：请用 --login 换一个用户名")
    session.execute(text(f'CREATE ROLE "{login}" LOGIN PASSWORD \'{password}\' IN ROLE {GROUP}'))
    user = AppUser(login=login, name=name.strip(), role=role, person_id=person.id if person else None, **{column: place_id})
    session.add(user)
    session.flush()
    return user, password


def district_coordinators_only(session: Session, action: str) -> None:
    """Refuse, before any work, a user below the district level a district's step (the database would
    refuse its first write anyway, naming a table rather than the step)."""
    user = verified_user(session)
    if user is not None and user.role != UserRole.district:
        raise UserError(f"没有权限：{action}只由区级联络人做，{user.name}（{user.login}）是{user.role.label}。这次什么都没有写入")


def _only_the_administrator(session: Session) -> None:
    user = verified_user(session)
    if user is not None:
        raise UserError(f"没有权限：添加和删除用户只能由管理员（数据库的所有者）来做，{user.name}（{user.login}）是{user.role.label}。"
                        "这次什么都没有写入")


def remove_user(session: Session, login: str) -> AppUser:
    _only_the_administrator(session)
    user = session.scalar(select(AppUser).where(AppUser.login == login.strip().lower()))
    if user is None:
        raise UserError(f"没有数据库用户“{login}”：lianchuang users list 查看")
    session.execute(text(f'DROP ROLE IF EXISTS "{user.login}"'))
    session.delete(user)
    return user


def list_users(session: Session) -> list[dict]:
    rows = []
    levels = list(UserRole)
    for user in sorted(session.scalars(select(AppUser)), key=lambda u: (levels.index(u.role), u.login)):
        scope = SCOPE[user.role]
        place = session.get(scope, getattr(user, f"{scope.__tablename__}_id"))
        rows.append(dict(login=user.login, name=user.name, role=user.role.label, scope=place.name if place else ""))
    return rows


def verified_user(session: Session) -> AppUser | None:
    """The app user this connection logged in as (PostgreSQL's session_user), if it is one."""
    if not is_postgres(session):
        return None
    return session.scalar(select(AppUser).where(AppUser.login == literal_column("session_user")))


def _login_for(person: Person | None, name: str) -> str:
    if person is not None:
        return "lc_" + "".join(c for c in person.code.lower() if c.isalnum())
    raise UserError(f"组织架构里没有“{name}”：请用 --login 给他一个数据库用户名（英文字母、数字、下划线），如 --login lc_wangming")


SCOPE = {UserRole.district: District, UserRole.street: Street, UserRole.community: Community, UserRole.unit: Unit}


def word_of(model) -> str:
    return {District: "区", Street: "街道", Community: "社区", Unit: "单位"}[model]
