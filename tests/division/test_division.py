"""Stages 2-3: the assignment optimisation, reviewing it by sheet and command, posts, signing."""

from datetime import date, datetime

import pytest
from factories import YEAR
from sqlalchemy import select

from lianchuang.errors import ImportRefused, UserError
from lianchuang.models import Commitment, Community, District, Person, Post, PostClaim, PostKind, Street, Task, TaskCoUnit, Unit
from lianchuang.models.enums import Category, Role, UnitKind
from lianchuang.tasks.commitments.rules import prepare_commitments, sign_in_community
from lianchuang.tasks.cycle import ensure_cycle
from lianchuang.tasks.division import assignment, cards as division, sheets as task_cards
from lianchuang.tasks.division.cards import complete_task_cards, open_posts
from lianchuang.tasks.division.posts import claim, open_emergency, write_callout_page
from lianchuang.tasks.opinions.rules import NewTask, add_tasks


@pytest.fixture
def place(session):
    """Two streets: S1 with communities C1 and C2, S2 with C3. No units yet."""
    district = District(code="D", name="测试区")
    s1, s2 = Street(code="S1", name="一街道", district=district), Street(code="S2", name="二街道", district=district)
    communities = [Community(code="C1", name="一社区", street=s1), Community(code="C2", name="二社区", street=s1),
                   Community(code="C3", name="三社区", street=s2)]
    session.add_all(communities)
    session.flush()
    return ensure_cycle(session, YEAR), {c.code: c for c in communities}


def add_unit(session, code, community, strengths="", capacity=3, kind=UnitKind.stationed_unit):
    unit = Unit(code=code, name=f"单位{code}", kind=kind, community_id=community.id, strengths=strengths, capacity=capacity)
    session.add(unit)
    session.flush()
    return unit


def add(session, cycle, community, *categories):
    codes = add_tasks(session, cycle.id, [NewTask(community.id, c, f"任务{i}") for i, c in enumerate(categories)])
    return [session.scalars(select(Task).where(Task.code == code)).one() for code in codes]


def leads(session):
    return {t.code: (t.lead_unit.code if t.lead_unit else None) for t in session.scalars(select(Task).order_by(Task.code))}


def test_the_whole_set_is_optimised_not_taken_greedily_in_order(session, place):
    cycle, c = place
    add_unit(session, "A", c["C1"], strengths="party_building,culture", capacity=1)
    add_unit(session, "B", c["C1"], strengths="party_building", capacity=1)
    add(session, cycle, c["C1"], Category.party_building, Category.culture)
    proposals, _ = assignment.propose(session, cycle.id, [c["C1"].id])
    assignment.apply(session, proposals)
    # Taking C1-001 first, a greedy pass gives it A (first by code) and leaves culture to B, which
    # is not strong in it; the optimum gives both tasks a unit strong in their category.
    assert leads(session) == {"C1-001": "B", "C1-002": "A"}
    reasons = {p.reason for p in proposals}
    assert "同社区，擅长文体活动联谊，当前承担1项（可承担1项）" in reasons


def test_nearby_first_then_the_same_street_never_another_street(session, place):
    cycle, c = place
    add_unit(session, "NEAR", c["C2"])
    add_unit(session, "FAR", c["C3"], strengths="public_safety")
    add(session, cycle, c["C1"], Category.public_safety)
    proposals, balance = assignment.propose(session, cycle.id, [c["C1"].id])
    assert [p.reason.split("，")[0] for p in proposals] == ["同街道"]
    assignment.apply(session, proposals)
    assert leads(session) == {"C1-001": "NEAR"}
    assert balance.unassigned == 0


def test_load_is_balanced_within_capacity_and_reported(session, place):
    cycle, c = place
    add_unit(session, "A", c["C1"], capacity=3)
    add_unit(session, "B", c["C1"], capacity=3)
    add(session, cycle, c["C1"], *[Category.services] * 4)
    proposals, balance = assignment.propose(session, cycle.id, [c["C1"].id])
    assert sorted(balance.after.values()) == [2, 2]
    assert balance.histogram() == [(0, 2, 0), (2, 0, 2)]
    assert balance.figures(balance.after)["over_capacity"] == 0
    assert all(p.co_unit_id not in (None, p.lead_unit_id) for p in proposals)  # a co-organiser, never the lead


def test_tasks_beyond_every_capacity_still_get_a_lead_and_show_as_over(session, place):
    cycle, c = place
    add_unit(session, "A", c["C1"], capacity=1)
    add(session, cycle, c["C1"], Category.services, Category.services)
    proposals, balance = assignment.propose(session, cycle.id, [c["C1"].id])
    assert len(proposals) == 2 and balance.figures(balance.after)["over_capacity"] == 1
    assert any("已超出可承担数" in p.reason for p in proposals)


def test_proposing_again_keeps_manual_choices(session, place):
    cycle, c = place
    add_unit(session, "A", c["C1"], strengths="services")
    add_unit(session, "B", c["C1"])
    add(session, cycle, c["C1"], Category.services, Category.services)
    assignment.apply(session, assignment.propose(session, cycle.id, [c["C1"].id])[0])
    assert leads(session) == {"C1-001": "A", "C1-002": "A"}
    task_cards.apply_changes(session, YEAR, cycle.id, [(0, task_cards.CardChange("C1-001", lead="B"))], "命令行")
    assert assignment.clear_proposals(session, cycle.id, [c["C1"].id]) == 1
    assignment.apply(session, assignment.propose(session, cycle.id, [c["C1"].id])[0])
    task = session.scalars(select(Task).where(Task.code == "C1-001")).one()
    assert leads(session)["C1-001"] == "B" and task.assigned_manually and task.assignment_reason == "人工确定"


def people_of(session, unit, *roles):
    people = [Person(code=f"{unit.code}-{role.value}", name=f"{unit.code}{role.label}", role=role,
                     community_id=unit.community_id, unit_id=unit.id) for role in roles]
    session.add_all(people)
    session.flush()
    return people


def two_units_and_their_cards(session, cycle, c):
    """Units A (strong in services) and B with leaders and liaisons, two tasks in C1, proposed and
    completed; returns B and B's leader."""
    a, b = add_unit(session, "A", c["C1"], strengths="services"), add_unit(session, "B", c["C1"])
    people_of(session, a, Role.unit_leader, Role.liaison)
    b_leader, _ = people_of(session, b, Role.unit_leader, Role.liaison)
    add(session, cycle, c["C1"], Category.services, Category.culture)
    assignment.apply(session, assignment.propose(session, cycle.id, [c["C1"].id])[0])
    complete_task_cards(session, YEAR, cycle.id, [c["C1"].id])
    return b, b_leader


def test_sheet_round_trip_changes_only_what_was_edited(session, place, tmp_path):
    from openpyxl import load_workbook

    cycle, c = place
    b, b_leader = two_units_and_their_cards(session, cycle, c)
    path = tmp_path / "分工表.xlsx"
    assert task_cards.export_assignments(session, path, cycle.id, [c["C1"].id]) == 2
    assert task_cards.import_assignments(session, YEAR, cycle.id, path) == dict(rows=2, changed=0)
    book = load_workbook(path)
    sheet = book["分工"]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "C1-001")
    row[4].value, row[6].value, row[11].value = "B", "", "服务居民 300 户"
    book.save(path)
    assert task_cards.import_assignments(session, YEAR, cycle.id, path)["changed"] == 1
    task = session.scalars(select(Task).where(Task.code == "C1-001")).one()
    assert (task.lead_unit_id, task.goal, task.assigned_manually) == (b.id, "服务居民 300 户", True)
    assert task.responsible_person_id == b_leader.id  # refilled from the new lead unit
    assert not session.scalars(select(TaskCoUnit).where(TaskCoUnit.task_id == task.id)).all()


def test_a_sheet_with_mistakes_is_refused_whole(session, place):
    cycle, c = place
    add_unit(session, "A", c["C1"])
    session.add(Unit(code="CROWD", name="社区群众", kind=UnitKind.residents, community_id=c["C1"].id))
    add(session, cycle, c["C1"], Category.services, Category.culture)
    changes = [(2, task_cards.CardChange("C1-001", lead="A", co=["A"], deadline="2027-01-05")),
               (3, task_cards.CardChange("C1-002", lead="NOPE", leader="NOBODY")),
               (4, task_cards.CardChange("C9-001", lead="CROWD")),
               (5, task_cards.CardChange("C1-002", lead="CROWD"))]
    with pytest.raises(ImportRefused) as refused:
        task_cards.apply_changes(session, YEAR, cycle.id, changes, "分工表.xlsx")
    assert [(p.row, p.column) for p in refused.value.problems] == [
        (2, "协办单位编码"), (2, "截止日期"), (3, "牵头单位编码"), (3, "负责领导编码"), (4, "任务编号"), (5, "牵头单位编码")]
    assert leads(session) == {"C1-001": None, "C1-002": None}


def test_check_lists_what_each_card_lacks(session, place):
    cycle, c = place
    unit = add_unit(session, "A", c["C1"])
    people_of(session, unit, Role.unit_leader)
    add(session, cycle, c["C1"], Category.services)
    assert division.missing_fields(session, cycle.id, [c["C1"].id])[0]["missing"] == [
        "牵头单位", "负责领导", "联络员", "截止日期", "年度目标", "实施步骤"]
    assignment.apply(session, assignment.propose(session, cycle.id, [c["C1"].id])[0])
    complete_task_cards(session, YEAR, cycle.id, [c["C1"].id])
    assert division.missing_fields(session, cycle.id, [c["C1"].id]) == []  # the leader is the liaison too


def test_cards_complete_from_what_a_real_org_sheet_has(session, place):
    """A unit with nobody registered: the community's coordinator stands in, and the reason says so;
    with no coordinator either, leader and liaison stay missing for `tasks check` to name."""
    cycle, c = place
    add_unit(session, "A", c["C1"])
    add_unit(session, "B", c["C2"])
    coordinator, = members(session, c["C1"], 1, role=Role.community_coordinator, prefix="K")
    first, = add(session, cycle, c["C1"], Category.services)
    second, = add(session, cycle, c["C2"], Category.services)
    assignment.apply(session, assignment.propose(session, cycle.id, [c["C1"].id, c["C2"].id])[0])
    complete_task_cards(session, YEAR, cycle.id, [c["C1"].id, c["C2"].id])
    assert (first.responsible_person_id, first.liaison_person_id) == (coordinator.id, coordinator.id)
    assert "社区联络人代填" in first.assignment_reason
    assert division.missing_fields(session, cycle.id, [c["C2"].id])[0]["missing"] == ["负责领导", "联络员"]


def members(session, community, count, role=Role.serving_member, prefix="M"):
    people = [Person(code=f"{prefix}{community.code}{i}", name=f"党员{community.code}{i}", role=role,
                     community_id=community.id) for i in range(count)]
    session.add_all(people)
    session.flush()
    return people


def test_claims_refuse_a_full_post_and_a_second_claim_and_write_nothing(session, place):
    cycle, c = place
    people = members(session, c["C1"], 4)
    open_posts(session, cycle.id, [c["C1"].id], date(YEAR, 3, 1))
    post = session.scalars(select(Post).where(Post.community_id == c["C1"].id).order_by(Post.id)).first()
    post.capacity = 2
    kind = post.kind.name
    rows = [(2, dict(person=people[0].code, community="C1", kind=kind)), (3, dict(person=people[1].code, community="一社区", kind=kind)),
            (4, dict(person=people[2].code, community="C1", kind=kind)), (5, dict(person=people[0].code, community="C1", kind=kind)),
            (6, dict(person="NOBODY", community="C1", kind="没有的岗")), (7, dict(person=people[3].code, community="C1", kind="没有的岗"))]
    with pytest.raises(ImportRefused) as refused:
        claim(session, cycle.id, rows, "认领.xlsx", date(YEAR, 3, 2))
    assert [(p.row, p.column) for p in refused.value.problems] == [(4, "岗位"), (5, "岗位"), (6, "人员编码"), (6, "岗位"), (7, "岗位")]
    assert "已满员" in refused.value.problems[0].reason and "第2行认领过" in refused.value.problems[1].reason
    assert not session.scalars(select(PostClaim)).all()
    assert claim(session, cycle.id, rows[:2], "认领.xlsx", date(YEAR, 3, 2)) == dict(rows=2, new=2, already_there=0)
    assert claim(session, cycle.id, rows[:2], "认领.xlsx", date(YEAR, 3, 2)) == dict(rows=2, new=0, already_there=2)


def test_an_emergency_opens_a_temporary_post_and_alerts_the_street(session, place):
    cycle, c = place
    home, neighbour, elsewhere = members(session, c["C1"], 2), members(session, c["C2"], 1), members(session, c["C3"], 1)
    members(session, c["C1"], 1, role=Role.resident, prefix="R")  # residents are not called up
    capacity, drafts = open_emergency(session, YEAR, cycle.id, c["C1"], "突发事件处置岗", 30, "强降雨致小区进水", date(YEAR, 6, 20))
    post = session.scalars(select(Post).where(Post.community_id == c["C1"].id)).one()
    assert (post.temporary, post.capacity, capacity) == (True, 30, 30)
    assert {d.recipient_key: d.context["home"] for d in drafts} == {
        home[0].code: True, home[1].code: True, neighbour[0].code: False}
    assert elsewhere[0].code not in {d.recipient_key for d in drafts}
    with pytest.raises(UserError, match="没有岗位"):
        open_emergency(session, YEAR, cycle.id, c["C1"], "不存在岗", 5, "x", date(YEAR, 6, 20))


def test_an_emergency_lists_who_has_no_email_and_prints_a_dated_callout_at_once(session, place, settings):
    cycle, c = place
    with_email, without = members(session, c["C1"], 2)
    with_email.email, without.phone = "m@example.cn", "13900000000"
    _, drafts = open_emergency(session, YEAR, cycle.id, c["C1"], "突发事件处置岗", 30, "强降雨致小区进水", date(YEAR, 6, 20))
    people, page = write_callout_page(session, YEAR, c["C1"], drafts)
    assert people == [dict(name=without.name, phone="13900000000", community=c["C1"].name, home=True)]
    assert page.name == f"{YEAR}-06-20-C1.html" and page.parent == settings.print_dir / str(YEAR) / "紧急通知"
    text = page.read_text(encoding="utf-8")
    assert "13900000000" in text and "强降雨致小区进水" in text and with_email.name not in text


def test_signing_by_holder_code_records_who_and_when(session, place):
    cycle, c = place
    unit = add_unit(session, "A", c["C1"])
    people_of(session, unit, Role.unit_leader, Role.liaison)
    add(session, cycle, c["C1"], Category.services)
    assignment.apply(session, assignment.propose(session, cycle.id, [c["C1"].id])[0])
    assert prepare_commitments(session, YEAR, cycle.id, [c["C1"].id]) == 1
    at = datetime(YEAR, 3, 20, 9, 30)
    with pytest.raises(UserError, match="NOPE"):
        sign_in_community(session, cycle.id, c["C1"].id, ["NOPE"], "王书记", at)
    assert sign_in_community(session, cycle.id, c["C1"].id, ["A"], "王书记", at) == (1, 0)
    assert sign_in_community(session, cycle.id, c["C1"].id, ["单位A"], "王书记", at) == (0, 1)  # by its unique name too
    assert sign_in_community(session, cycle.id, c["C1"].id, None, "李主任", datetime(YEAR, 3, 21)) == (0, 1)
    signed = session.scalars(select(Commitment)).one()
    assert (signed.signed_by, signed.signed_at) == ("王书记", at)


def test_people_and_units_are_accepted_by_name_and_an_ambiguous_name_lists_the_candidates(session, place):
    cycle, c = place
    unit = add_unit(session, "A", c["C1"])
    task, = add(session, cycle, c["C1"], Category.services)
    session.add_all([Person(code="P1", name="吴建华", role=Role.unit_leader, community_id=c["C1"].id, unit_id=unit.id),
                     Person(code="P2", name="韩梅", role=Role.activist, community_id=c["C1"].id),
                     Person(code="P3", name="韩梅", role=Role.resident, community_id=c["C2"].id)])
    session.flush()
    change = task_cards.CardChange(task.code, lead=unit.name, leader="吴建华", liaison="P1")
    assert task_cards.apply_changes(session, YEAR, cycle.id, [(0, change)], "命令行")
    assert (task.lead_unit_id, task.responsible.name) == (unit.id, "吴建华")
    with pytest.raises(ImportRefused) as refused:
        task_cards.apply_changes(session, YEAR, cycle.id, [(0, task_cards.CardChange(task.code, leader="韩梅"))], "命令行")
    assert "有 2 个人员叫“韩梅”" in str(refused.value.problems[0]) and "P2" in str(refused.value.problems[0])
    open_posts(session, cycle.id, [c["C1"].id], date(YEAR, 3, 1))
    kind = session.scalars(select(PostKind.name).order_by(PostKind.id)).first()
    with pytest.raises(ImportRefused) as refused:
        claim(session, cycle.id, [(2, dict(person="韩梅", community=c["C1"].name, kind=kind))], "认领.xlsx", date(YEAR, 3, 2))
    assert "请改填编码" in str(refused.value.problems[0])
    assert claim(session, cycle.id, [(2, dict(person="吴建华", community=c["C1"].name, kind=kind))], "认领.xlsx",
                 date(YEAR, 3, 2))["new"] == 1


def test_fit_outweighs_nearness_and_a_unit_that_does_not_fit_is_the_last_resort(session, place):
    """The coordinator's case: 路灯 went to the district hospital next door ("同社区，驻区单位对口")
    and 四点半课堂 to the tax bureau. A declared strength in the street wins over a unit next door
    that fits only by kind; a unit that does not fit at all comes last, and says so."""
    cycle, c = place
    add_unit(session, "HOSPITAL", c["C1"])  # stationed unit: fits sanitation by kind only
    add_unit(session, "TAX", c["C1"], kind=UnitKind.linked_unit)  # linked unit: no culture by kind
    add_unit(session, "POWER", c["C2"], strengths="sanitation")
    add_unit(session, "YOUTH", c["C2"], strengths="culture", capacity=1, kind=UnitKind.mass_org)
    add(session, cycle, c["C1"], Category.sanitation, Category.culture, Category.culture)
    proposals, _ = assignment.propose(session, cycle.id, [c["C1"].id])
    assignment.apply(session, proposals)
    chosen = leads(session)
    assert (chosen["C1-001"], chosen["C1-002"]) == ("POWER", "YOUTH")
    assert chosen["C1-003"] in ("HOSPITAL", "TAX")  # neither fits culture: the last resort, next door
    reasons = {session.get(Task, p.task_id).code: p.reason for p in proposals}
    assert reasons["C1-001"].startswith("同街道，擅长") and reasons["C1-002"].startswith("同街道，擅长")
    assert "不对口（本街道对口单位已无余力）" in reasons["C1-003"]  # the street's only culture unit is full


def test_commitment_documents_name_the_real_party_organisation_and_quotes_do_not_nest(session, place, settings):
    cycle, c = place
    add_unit(session, "DW", c["C1"], kind=UnitKind.party_org).name = "一社区党委"
    unit = add_unit(session, "A", c["C1"], strengths="culture")
    people_of(session, unit, Role.unit_leader)
    add_tasks(session, cycle.id, [NewTask(c["C1"].id, Category.culture, "青年志愿者“四点半课堂”")])
    assignment.apply(session, assignment.propose(session, cycle.id, [c["C1"].id])[0])
    complete_task_cards(session, YEAR, cycle.id, [c["C1"].id])
    prepare_commitments(session, YEAR, cycle.id, [c["C1"].id])
    page = next((settings.documents_dir / str(YEAR)).glob("C1-责任状与承诺书.html")).read_text(encoding="utf-8")
    assert "一社区党委（甲方）" in page and "一社区党组织" not in page
    assert "按期完成“青年志愿者‘四点半课堂’”" in page


def test_a_name_edited_in_the_sheet_is_applied_or_refused_never_ignored(session, place, tmp_path):
    """The name columns were for viewing only: a coordinator who changed 牵头单位 by name saw
    "改动 0 项" and nothing happen. Now a name is applied where its code was left as it was."""
    from openpyxl import load_workbook

    cycle, c = place
    b, b_leader = two_units_and_their_cards(session, cycle, c)
    add_unit(session, "C", c["C1"])
    path = tmp_path / "分工表.xlsx"
    task_cards.export_assignments(session, path, cycle.id, [c["C1"].id])
    book = load_workbook(path)
    sheet = book["分工"]
    header = [cell.value for cell in sheet[1]]
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=2)}
    first = rows["C1-001"]
    for row in rows.values():
        row[header.index("协办单位编码")].value = ""  # B may co-organise as proposed; it is to lead now
    first[header.index("牵头单位")].value = "单位B"  # by name, the code column left as exported
    second = rows["C1-002"]
    other = "A" if second[header.index("牵头单位编码")].value == "B" else "B"
    second[header.index("牵头单位编码")].value, second[header.index("牵头单位")].value = other, "单位C"  # both edited, apart
    book.save(path)
    with pytest.raises(ImportRefused) as refused:
        task_cards.import_assignments(session, YEAR, cycle.id, path)
    assert [(p.row, p.column) for p in refused.value.problems] == [(second[0].row, "牵头单位")]
    assert "请只改其中一列" in refused.value.problems[0].reason
    second[header.index("牵头单位")].value = f"单位{other}"  # now they agree
    book.save(path)
    assert task_cards.import_assignments(session, YEAR, cycle.id, path)["changed"] >= 1
    assert leads(session) == {"C1-001": "B", "C1-002": other}
    task = session.scalars(select(Task).where(Task.code == "C1-001")).one()
    assert task.responsible_person_id == b_leader.id and task.assigned_manually
