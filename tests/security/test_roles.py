"""Roles per level, enforced by PostgreSQL (issue 33): each coordinator's own database login writes
only its scope. For a community, a street and a district coordinator: what is theirs succeeds; a
task of another community, another street's, and a district-level step (publishing a ranking) are
refused from the CLI with a Chinese reason and nothing written, and through raw SQL with their
login. The audit trail names the verified user. SQLite has no logins: `users add` says so."""


import pytest
from factories import YEAR, add_task_per_community
from roles import add_user, lianchuang, reports
from sqlalchemy import create_engine, func, select, text

from lianchuang.models import AuditEntry, Community, Person, Street, Task
from lianchuang.models.db import normalise_url, session_scope
from lianchuang.models.enums import Role


def report(settings, url, task, percent="30"):
    return lianchuang(settings, "progress", "add", task, "--percent", percent, "--month", "11", "--date", f"{YEAR}-12-02",
                      "--year", str(YEAR), url=url)


def test_each_level_writes_only_its_own_scope(scopes, settings, logins):
    community_login, community = add_user(settings, scopes["community"][0], "社区联络人")
    street_login, street = add_user(settings, scopes["street"], "街道联络人")
    district_login, district = add_user(settings, scopes["district"], "区级联络人")
    logins += [community_login, street_login, district_login]
    listed = lianchuang(settings, "users", "list")
    assert all(login in listed.stdout for login in logins) and "社区联络人" in listed.stdout

    assert report(settings, community, scopes["own"]).returncode == 0 and reports() == 1
    for refused in (report(settings, community, scopes["neighbour"]), report(settings, community, scopes["far"]),
                    lianchuang(settings, "rank", "--month", f"{YEAR}-11", "--yes", url=community)):
        assert refused.returncode == 2 and "没有权限" in refused.stderr and "Traceback" not in refused.stderr, refused.stderr
    assert reports() == 1  # nothing of the refused commands was written

    assert report(settings, street, scopes["neighbour"]).returncode == 0 and reports() == 2
    refused = report(settings, street, scopes["far"])
    assert refused.returncode == 2 and "没有权限" in refused.stderr and reports() == 2
    assert raw_report_refused(street, scopes["far"]) and reports() == 2  # the same through raw SQL with the login
    refused = lianchuang(settings, "rank", "--month", f"{YEAR}-11", "--yes", url=street)
    assert refused.returncode == 2 and "没有权限：发布和更正月度排名只由区级联络人做" in refused.stderr, refused.stderr

    assert report(settings, district, scopes["far"]).returncode == 0 and reports() == 3
    published = lianchuang(settings, "rank", "--month", f"{YEAR}-11", "--yes", url=district)
    assert published.returncode == 0, published.stderr

    with session_scope() as session:
        actors = dict(session.execute(select(AuditEntry.entity, AuditEntry.actor).where(AuditEntry.entity.like("progress:%"))).all())
        ranked_by = session.scalar(select(AuditEntry.actor).where(AuditEntry.entity == "stage:progress"))
    assert actors[f"progress:{scopes['own']}"] == f"{scopes['community'][0]}（{community_login}）"
    assert actors[f"progress:{scopes['far']}"] == f"{scopes['district']}（{district_login}）"
    assert ranked_by == f"{scopes['district']}（{district_login}）"  # who published, verified


RAW_REPORT = text("INSERT INTO progress_report (task_id, reported_on, month, percent, funds_yuan, matters_handled, order_key, "
                  "created_at, updated_at) SELECT id, DATE '2026-12-01', 11, 50, 0, 0, 999, now(), now() FROM task WHERE code = :code")


def raw_report_refused(url: str, task: str) -> bool:
    """Whether a progress report for `task` written through raw SQL with this login is refused."""
    engine = create_engine(normalise_url(url))
    try:
        with engine.begin() as connection:
            connection.execute(RAW_REPORT, {"code": task})
        return False
    except Exception as error:
        return "row-level security" in str(error)
    finally:
        engine.dispose()


def test_raw_sql_with_a_community_login_cannot_write_another_community_s_rows(scopes, settings, logins):
    login, url = add_user(settings, scopes["community"][0], "社区联络人")
    logins.append(login)
    engine = create_engine(normalise_url(url))
    insert = RAW_REPORT
    try:
        with engine.begin() as connection:
            assert connection.scalar(text("SELECT count(*) FROM task")) > 1  # reads everything
        with pytest.raises(Exception, match="row-level security"):
            with engine.begin() as connection:
                connection.execute(insert, {"code": scopes["far"]})
        with pytest.raises(Exception, match="row-level security"):
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO app_user (login, name, role, created_at, updated_at) "
                                        "VALUES ('lc_me', '我', 'district', now(), now())"))
        with pytest.raises(Exception, match="row-level security"):  # an entry in someone else's name
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO audit_entry (at, actor, action, entity, detail, created_at, updated_at) "
                                        "VALUES (now(), '区委书记', 'award', 'stage:award', '{}', now(), now())"))
        with engine.begin() as connection:  # nor move a community into its own scope: the tree is the administrator's
            assert connection.execute(text("UPDATE community SET street_id = street_id")).rowcount == 0
        with engine.begin() as connection:  # rows outside its scope are invisible to an update: nothing changes
            assert connection.execute(text("UPDATE task SET title = 'x' WHERE code = :code"), {"code": scopes["far"]}).rowcount == 0
            assert connection.execute(text("DELETE FROM audit_entry")).rowcount == 0
    finally:
        engine.dispose()
    assert reports() == 0


def test_sqlite_says_it_is_single_user(district, settings):
    if settings.db_url.startswith("postgresql"):
        pytest.skip("the SQLite case")
    done = lianchuang(settings, "users", "add", "王明", "--role", "社区联络人")
    assert done.returncode == 2 and "SQLite 是单用户" in done.stderr


def test_a_flow_run_under_a_street_login_is_refused_a_district_step_with_its_reason(scopes, settings, logins, prefect_harness,
                                                                                   monkeypatch):
    """What a worker running with a street coordinator's login would do from a deployment: the
    ranking run fails with the Chinese reason (no traceback in the UI's message) and publishes nothing."""
    from lianchuang.flows.stages import monthly_ranking
    from lianchuang.models import MonthlyRanking
    from lianchuang.settings import reset_settings

    login, url = add_user(settings, scopes["street"], "街道联络人")
    logins.append(login)
    monkeypatch.setenv("LIANCHUANG_DATABASE_URL", url)
    reset_settings()
    state = monthly_ranking(YEAR, [11], send=False, confirm=True, return_state=True)
    monkeypatch.setenv("LIANCHUANG_DATABASE_URL", settings.db_url)
    reset_settings()
    assert state.is_failed() and "没有权限" in state.message and "Traceback" not in state.message, state.message
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(MonthlyRanking)) == 0


def test_a_unit_liaison_reports_only_the_tasks_its_unit_leads(scopes, settings, logins):
    from lianchuang.models import Unit

    with session_scope() as session:
        liaison = session.scalars(select(Person).where(Person.unit_id.is_not(None)).order_by(Person.code)).first()
        unit = session.get(Unit, liaison.unit_id)
        session.scalars(select(Task).where(Task.code == scopes["far"])).one().lead_unit_id = unit.id
        name = liaison.name
    login, url = add_user(settings, name, "单位联络员")
    logins.append(login)
    assert unit.name in lianchuang(settings, "users", "list").stdout
    assert report(settings, url, scopes["far"]).returncode == 0 and reports() == 1  # its unit leads it, in another street
    refused = report(settings, url, scopes["own"])
    assert refused.returncode == 2 and "没有权限" in refused.stderr and reports() == 1
    refused = lianchuang(settings, "rank", "--month", f"{YEAR}-11", "--yes", url=url)
    assert refused.returncode == 2 and "没有权限：发布和更正月度排名只由区级联络人做" in refused.stderr
    refused = lianchuang(settings, "opinions", "add", "-c", scopes["community"][1], "--source", "社区群众", "--channel", "入户",
                         "--content", "路灯坏了", "--year", str(YEAR), url=url)
    assert refused.returncode == 2 and "没有权限" in refused.stderr, refused.stderr
    assert raw_report_refused(url, scopes["neighbour"]) and reports() == 1


@pytest.fixture
def two_districts(settings):
    """Two districts of a province, a task in each community; (district coordinator's name, a task of
    another district, that district's code)."""
    from factories import build_district

    from lianchuang.models import District
    from lianchuang.tasks.demo.data import Scale

    if not settings.db_url.startswith("postgresql"):
        pytest.skip("row-level security needs PostgreSQL (LIANCHUANG_TEST_DATABASE_URL)")
    build_district(Scale(districts=2, streets_per_district=1, communities=4, task_units=12, members_per_community=6,
                         post_holders=8, suggestions=8, tasks=8))
    add_task_per_community()
    with session_scope() as session:
        coordinator = session.scalars(select(Person).where(Person.role == Role.district_coordinator).order_by(Person.code)).first()
        other = session.scalars(select(District).where(District.id != coordinator.district_id)).first()
        far = session.scalar(select(Task.code).join(Community).join(Street).where(Street.district_id == other.id))
        return coordinator.name, far, other.code


def test_a_district_coordinator_is_refused_another_district_and_the_administrator_s_work(two_districts, settings, logins):
    name, far, other = two_districts
    login, url = add_user(settings, name, "区级联络人")
    logins.append(login)
    for refused in (report(settings, url, far),  # another district's task
                    lianchuang(settings, "rank", "--month", f"{YEAR}-11", "--district", other, "--yes", url=url),
                    lianchuang(settings, "users", "add", "王明", "--role", "社区联络人", "--login", "lc_by_a_user", url=url)):
        assert refused.returncode == 2 and "没有权限" in refused.stderr and "Traceback" not in refused.stderr, refused.stderr
    assert reports() == 0
    engine = create_engine(normalise_url(url))
    try:  # raw SQL: another district's rules, the organisation
        with engine.begin() as connection:
            district_id = connection.scalar(text("SELECT id FROM district WHERE code = :code"), {"code": other})
        with pytest.raises(Exception, match="row-level security"):
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO rule_scheme (district_id, year, version, rules, adopted_at, created_at, updated_at) "
                                        "VALUES (:d, 2026, 99, '{}', now(), now(), now())"), {"d": district_id})
        with engine.begin() as connection:
            assert connection.execute(text("UPDATE district SET name = '我的区'")).rowcount == 0
    finally:
        engine.dispose()
    upgraded = lianchuang(settings, "db", "upgrade")  # the administrator's upgrade puts the policies on new tables too
    assert upgraded.returncode == 0 and "分级权限规则已按新结构更新" in upgraded.stdout, upgraded.stderr


def test_the_evaluation_scheme_and_the_voting_codes_are_out_of_a_community_login_s_reach(scopes, settings, logins):
    """What decides the money and the secrecy of the ballot: a community coordinator cannot change the
    group weights, the grade points or the year's code salt, nor read a queued invitation's voting
    code (its own community's included); the district coordinator, who sends them, can."""
    from datetime import date

    from lianchuang.tasks.cycle import ensure_cycle
    from lianchuang.tasks.evaluation.ballots import open_evaluation
    from lianchuang.tasks.outbox.drafts import queue

    with session_scope() as session:  # the invitations queued, not yet sent: the codes are in them
        communities = session.scalars(select(Community.id)).all()
        drafts = open_evaluation(session, YEAR, ensure_cycle(session, YEAR).id, communities, date(YEAR, 12, 20))
        assert queue(session, drafts) == len(drafts) and any(d.secret for d in drafts) and not all(d.secret for d in drafts)
    community_login, community = add_user(settings, scopes["community"][0], "社区联络人")
    district_login, district = add_user(settings, scopes["district"], "区级联络人")
    logins += [community_login, district_login]
    engines = {url: create_engine(normalise_url(url)) for url in (community, district)}
    with_code = "text ~ '[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]'"
    codes = f"SELECT (SELECT count(*) FROM notice WHERE secret IS NOT NULL) + (SELECT count(*) FROM notice_body WHERE {with_code})"
    try:
        with engines[community].begin() as connection:
            assert connection.scalar(text(codes)) == 0
            assert connection.scalar(text("SELECT count(*) FROM notice")) > 0  # notices without a code: read as before
            for change in ("UPDATE group_weight SET weight = weight * 10", "UPDATE grade_point SET points = 100",
                           "UPDATE cycle SET code_salt = 'known'", "DELETE FROM evaluation_item",
                           "UPDATE notice SET recipient_email = 'me@example.org' WHERE secret IS NOT NULL",
                           f"UPDATE notice_body SET text = 'x' WHERE {with_code}", f"DELETE FROM notice_body WHERE {with_code}"):
                assert connection.execute(text(change)).rowcount == 0, change
        with pytest.raises(Exception, match="row-level security"):
            with engines[community].begin() as connection:
                connection.execute(text("INSERT INTO grade_point (cycle_id, grade, points, created_at, updated_at) "
                                        "SELECT id, 'excellent', 100, now(), now() FROM cycle"))
        with engines[district].begin() as connection:
            assert connection.scalar(text(codes)) > 0
            assert connection.execute(text("UPDATE grade_point SET points = points")).rowcount > 0
    finally:
        for engine in engines.values():
            engine.dispose()


def test_a_group_chat_s_bot_and_its_messages_are_changed_only_by_those_over_its_place(scopes, settings, logins):
    """A community coordinator sets up its own community's group bot, not the district's; may queue a
    message to any group (its steps do) but not re-address, resend or delete the district group's."""
    from lianchuang.models import District

    with session_scope() as session:
        district = session.scalars(select(District)).first()
        session.execute(text("INSERT INTO chat_channel (level, place_code, place_name, platform, secret_block, created_at, updated_at) "
                             "VALUES ('district', :code, :name, 'wecom', 'wecom-district', now(), now())"),
                        {"code": district.code, "name": district.name})
        session.execute(text("INSERT INTO chat_message (key, channel_id, year, title, markdown, mention_phones, status, attempts, "
                             "created_at, updated_at) SELECT 'k1', id, 2026, '排名', '…', '', 'queued', 0, now(), now() FROM chat_channel"))
    login, url = add_user(settings, scopes["community"][0], "社区联络人")
    logins.append(login)
    add_channel = text("INSERT INTO chat_channel (level, place_code, place_name, platform, secret_block, created_at, updated_at) "
                       "VALUES (:level, :code, '群', 'dingtalk', 'mine', now(), now())")
    engine = create_engine(normalise_url(url))
    try:
        with engine.begin() as connection:
            connection.execute(add_channel, {"level": "community", "code": scopes["community"][1]})
        with pytest.raises(Exception, match="row-level security"):
            with engine.begin() as connection:
                connection.execute(add_channel, {"level": "district", "code": district.code})
        with engine.begin() as connection:
            assert connection.execute(text("UPDATE chat_channel SET secret_block = 'mine' WHERE level = 'district'")).rowcount == 0
            assert connection.execute(text("UPDATE chat_message SET markdown = '假消息'")).rowcount == 0
            assert connection.execute(text("DELETE FROM chat_message")).rowcount == 0
    finally:
        engine.dispose()
