"""One resolver for names (org.resolve): a code, a name only one row has, or a name qualified with its
place ("列东街道/江滨社区"); a shared name is refused with its candidates, in every command and sheet."""

import pytest
from factories import YEAR, write_lines
from sqlalchemy import select

from lianchuang.errors import ImportRefused, UserError
from lianchuang.models import Community, Opinion, Street
from lianchuang.models.db import session_scope
from lianchuang.tasks.cycle import communities_in_scope, ensure_cycle


@pytest.fixture
def twin(district):
    """The first community's name given to a community of the other street as well: two 江滨社区."""
    with session_scope() as session:
        first, *_, last = session.scalars(select(Community).order_by(Community.code)).all()
        assert first.street_id != last.street_id
        last.name = first.name
        streets = {s.id: s for s in session.scalars(select(Street))}
        return dict(name=first.name, first=(first.code, streets[first.street_id].name),
                    last=(last.code, streets[last.street_id].name))


def test_a_shared_community_name_is_refused_with_each_candidate_and_its_street(twin):
    with session_scope() as session, pytest.raises(UserError) as refused:
        communities_in_scope(session, [twin["name"]])
    message = str(refused.value)
    for code, street in (twin["first"], twin["last"]):
        assert code in message and street in message
    assert f"{twin['last'][1]}/{twin['name']}" in message or f"{twin['first'][1]}/{twin['name']}" in message


def test_a_name_qualified_with_its_street_or_a_code_picks_one(twin):
    code, street = twin["last"]
    with session_scope() as session:
        assert [c.code for c in communities_in_scope(session, [f"{street}/{twin['name']}"])] == [code]
        assert [c.code for c in communities_in_scope(session, [code])] == [code]


def test_suggestions_and_decisions_resolve_the_same_way(twin, tmp_path):
    """Before: the opinions import silently took one 江滨社区 and the decisions import the other."""
    from lianchuang.tasks.opinions.use_cases import export_agenda, import_opinion_file

    with session_scope() as session:
        ensure_cycle(session, YEAR)
    header = "社区,来源类别,渠道,提出人,联系方式,内容,日期"
    shared = write_lines(tmp_path / "shared.csv", [header, f"{twin['name']},社区群众,入户,李四,,路灯不亮,{YEAR}-01-10"])
    with pytest.raises(ImportRefused) as refused:
        import_opinion_file(YEAR, shared)
    assert [(p.row, p.column) for p in refused.value.problems] == [(2, "社区")] and "有 2 个社区" in refused.value.problems[0].reason
    code, street = twin["last"]
    qualified = write_lines(tmp_path / "qualified.csv", [header, f"{street}/{twin['name']},社区群众,入户,李四,,路灯不亮,{YEAR}-01-10"])
    import_opinion_file(YEAR, qualified)
    with session_scope() as session:
        landed = session.scalars(select(Community.code).join(Opinion, Opinion.community_id == Community.id)).all()
    assert landed == [code]
    with pytest.raises(UserError, match="有 2 个社区"):
        export_agenda(YEAR, twin["name"], tmp_path / "议题.xlsx")
    name, count = export_agenda(YEAR, f"{street}/{twin['name']}", tmp_path / "议题.xlsx")
    assert count == 1
