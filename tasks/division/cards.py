"""Stage 2 rules (who leads each task is in assignment.py): complete the task cards, open the
posts (设岗定责), and tell owners what they took on."""

from collections import defaultdict
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lianchuang.models import Community, Milestone, Person, Post, PostClaim, PostKind, Task
from lianchuang.models.db import insert_ignoring_duplicates
from lianchuang.models.enums import Role
from lianchuang.tasks.plan import default_steps

BUILTIN_POST_KINDS = [
    ("平安创建岗", "参与巡逻防控，排查治安隐患"), ("文明劝导岗", "劝导不文明行为，倡导文明新风"),
    ("廉政监督岗", "监督社区事务公开和资金使用"), ("环境卫生岗", "组织楼院卫生整治，监督乱倒垃圾"),
    ("政策宣传岗", "宣传党的政策和惠民措施"), ("帮扶结对岗", "结对帮扶困难家庭"),
    ("矛盾调解岗", "调解邻里纠纷"), ("关爱老人岗", "关心空巢、高龄老人"), ("青少年教育岗", "组织青少年校外活动"),
    ("法律服务岗", "提供法律咨询"), ("楼院管理岗", "担任楼长、院长，联系住户"), ("民情联络岗", "收集反映社情民意"),
    ("文体活动岗", "组织文艺队和文体活动"), ("志愿服务岗", "组织志愿服务活动"), ("消防安全岗", "检查消防隐患"),
    ("计生服务岗", "婚育新风进万家宣传服务"), ("就业援助岗", "帮助失业人员就业"), ("流动人口服务岗", "服务流动人口"),
    ("绿化护绿岗", "养护社区绿地"), ("交通劝导岗", "劝导交通秩序"), ("网络宣传岗", "维护社区网站和网络宣传"),
    ("党员先锋岗", "带头示范、联系群众"), ("突发事件处置岗", "突发事件时参与救援和灾后重建"),
]
EMERGENCY_POST_KIND = "突发事件处置岗"


def ensure_post_kinds(session: Session) -> None:
    insert_ignoring_duplicates(session, PostKind, [
        dict(name=name, duty=duty, emergency=name == EMERGENCY_POST_KIND) for name, duty in BUILTIN_POST_KINDS
    ], ["name"])


INNER_QUOTES = str.maketrans("“”", "‘’")  # quotes inside quotes, as Chinese writes them


def complete_task_cards(session: Session, year: int, cycle_id: int, community_ids: list[int]) -> int:
    """Fill what the meeting left open from what a real org sheet has: the lead unit's leader and
    liaison as responsible leader and liaison; a unit with only one of them, or only some member,
    gives that person for both; a unit with nobody, the community's coordinator (the reason says
    so). Then a year-end deadline, a goal and steps up to the deadline (plan.default_steps). What
    was entered is kept."""
    tasks = session.scalars(select(Task).where(Task.cycle_id == cycle_id, Task.community_id.in_(community_ids),
                                               Task.lead_unit_id.is_not(None))).all()
    unit_ids = {t.lead_unit_id for t in tasks}
    contacts = defaultdict(dict)
    for person_id, unit_id, role in session.execute(select(Person.id, Person.unit_id, Person.role).where(
            Person.unit_id.in_(unit_ids)).order_by(Person.code)):
        contacts[unit_id].setdefault(role, person_id)
        contacts[unit_id].setdefault("anyone", person_id)
    coordinators = {}
    for person_id, community_id in session.execute(select(Person.id, Person.community_id).where(
            Person.role == Role.community_coordinator, Person.community_id.in_(community_ids)).order_by(Person.code)):
        coordinators.setdefault(community_id, person_id)
    with_steps = set(session.scalars(select(Milestone.task_id).where(Milestone.task_id.in_([t.id for t in tasks]))))
    completed = 0
    steps = []
    for task in tasks:
        before = (task.responsible_person_id, task.liaison_person_id, task.deadline, task.goal)
        unit = contacts[task.lead_unit_id]
        leader = unit.get(Role.unit_leader) or unit.get(Role.liaison) or unit.get("anyone")
        liaison = unit.get(Role.liaison) or unit.get(Role.unit_leader) or unit.get("anyone")
        if (leader is None and not task.responsible_person_id) or (liaison is None and not task.liaison_person_id):
            leader = leader or coordinators.get(task.community_id)
            liaison = liaison or coordinators.get(task.community_id)
            if coordinators.get(task.community_id) and "社区联络人代填" not in (task.assignment_reason or ""):
                note = "牵头单位没有登记人员，负责人由社区联络人代填"
                task.assignment_reason = "；".join(filter(None, [task.assignment_reason, note]))[-255:]
        task.responsible_person_id = task.responsible_person_id or leader
        task.liaison_person_id = task.liaison_person_id or liaison
        task.deadline = task.deadline or date(year, 12, 31)
        task.goal = task.goal or f"按期完成“{task.title[:40].translate(INNER_QUOTES)}”，群众满意"  # the deadline may move
        if task.id not in with_steps:
            steps += [dict(task_id=task.id, due_month=s.month, target_percent=s.percent, title=s.title)
                      for s in default_steps(task.deadline, year)]
        completed += before != (task.responsible_person_id, task.liaison_person_id, task.deadline, task.goal)
    insert_ignoring_duplicates(session, Milestone, steps, ["task_id", "due_month"])
    return completed


CARD_FIELDS = {"lead": "牵头单位", "leader": "负责领导", "liaison": "联络员", "deadline": "截止日期", "goal": "年度目标",
               "steps": "实施步骤"}
HOW_TO_FILL = {  # what a coordinator does about each missing field, said by `tasks check`
    "牵头单位": "lianchuang assign propose 推荐，或 assign set 任务编号 --lead 单位名称",
    "负责领导": "在组织架构“人员”表给牵头单位登记单位负责人（或社区联络人）后 lianchuang assign run，或 assign set 任务编号 --leader 姓名",
    "联络员": "同上，或 assign set 任务编号 --liaison 姓名",
    "截止日期": "lianchuang assign run 补为年底，或 assign set 任务编号 --deadline 日期",
    "年度目标": "lianchuang assign run 补全，或 assign set 任务编号 --goal 目标",
    "实施步骤": "lianchuang assign run 按截止日期补全，或 assign set 任务编号 --steps \"5月 50% 完成设计；10月 100% 竣工\"",
}


def missing_fields(session: Session, cycle_id: int, community_ids: list[int]) -> list[dict]:
    """Every task whose card is incomplete, with what it lacks (Chinese labels)."""
    has_steps = select(Milestone.id).where(Milestone.task_id == Task.id).exists()
    rows = session.execute(select(Task.code, Task.title, Task.community_id, Community.name, Task.lead_unit_id, Task.responsible_person_id,
                                  Task.liaison_person_id, Task.deadline, Task.goal, has_steps.label("steps"))
                           .join(Community, Task.community_id == Community.id)
                           .where(Task.cycle_id == cycle_id, Task.community_id.in_(community_ids)).order_by(Task.code))
    result = []
    for row in rows:
        values = dict(lead=row.lead_unit_id, leader=row.responsible_person_id, liaison=row.liaison_person_id,
                      deadline=row.deadline, goal=row.goal, steps=row.steps)
        missing = [CARD_FIELDS[key] for key, value in values.items() if not value]
        if missing:
            result.append(dict(code=row.code, title=row.title, community_id=row.community_id, community=row.name,
                               missing=missing))
    return result


def incomplete_tasks(session: Session, cycle_id: int, community_ids: list[int]) -> dict[int, list[str]]:
    """Per community, the codes of tasks whose card misses anything needed to publish commitments."""
    missing = defaultdict(list)
    for task in missing_fields(session, cycle_id, community_ids):
        missing[task["community_id"]].append(task["code"])
    return missing


def open_posts(session: Session, cycle_id: int, community_ids: list[int], opened_on: date) -> int:
    """Every regular post kind in every community, sized to the community's members and residents."""
    ensure_post_kinds(session)
    kinds = session.execute(select(PostKind.id).where(PostKind.emergency.is_(False))).scalars().all()
    members = dict(session.execute(select(Person.community_id, func.count()).where(
        Person.community_id.in_(community_ids), Person.role.in_(CLAIMING_ROLES)).group_by(Person.community_id)).all())
    rows = [dict(cycle_id=cycle_id, community_id=cid, post_kind_id=kind,
                 capacity=max(3, 2 * -(-members.get(cid, 0) // len(kinds))), temporary=False, opened_on=opened_on)
            for cid in community_ids for kind in kinds]
    return insert_ignoring_duplicates(session, Post, rows, ["cycle_id", "community_id", "post_kind_id"])


CLAIMING_ROLES = [Role.serving_member, Role.member_without_post, Role.activist, Role.resident, Role.resident_rep]


def claim_posts(session: Session, claims: list[tuple[int, int]], claimed_on: date) -> int:
    """Record (post id, person id) claims; a claim already made is skipped, a full post refuses more."""
    taken = defaultdict(int, session.execute(select(PostClaim.post_id, func.count()).where(
        PostClaim.post_id.in_({p for p, _ in claims})).group_by(PostClaim.post_id)).all())
    capacity = dict(session.execute(select(Post.id, Post.capacity).where(Post.id.in_({p for p, _ in claims}))).all())
    existing = set(session.execute(select(PostClaim.post_id, PostClaim.person_id).where(
        PostClaim.post_id.in_({p for p, _ in claims}))).tuples())
    rows = []
    for post_id, person_id in dict.fromkeys(claims):
        if (post_id, person_id) in existing or taken[post_id] >= capacity[post_id]:
            continue
        taken[post_id] += 1
        rows.append(dict(post_id=post_id, person_id=person_id, claimed_on=claimed_on))
    return insert_ignoring_duplicates(session, PostClaim, rows, ["post_id", "person_id"])
