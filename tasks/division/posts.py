"""Posts (设岗定责) beyond opening them: editable post kinds, people claiming posts (one at a time
or from a sheet, all or nothing), and temporary posts opened in an emergency with a rapid notice
to the members of the community and its neighbours (the other communities of its street)."""

from collections import defaultdict
from datetime import date
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lianchuang.errors import ImportRefused, Problem, UserError
from lianchuang.models import Community, Person, Post, PostClaim, PostKind
from lianchuang.models.db import insert_ignoring_duplicates
from lianchuang.models.enums import Role, Stage
from lianchuang.tasks.division.cards import ensure_post_kinds
from lianchuang.tasks.files import replace_file
from lianchuang.tasks.org import resolve
from lianchuang.tasks.outbox.drafts import Draft
from lianchuang.tasks.sheets import Column, SheetReader, write_template

SHEET = "认领岗位"
COLUMNS = [Column("person", "人员编码", ("person", "person code"), True), Column("name", "姓名", ("name",)),
           Column("community", "社区", ("community",), True), Column("kind", "岗位", ("post", "kind"), True)]
RESPONDING_ROLES = [Role.community_coordinator, Role.serving_member, Role.member_without_post, Role.activist]


def save_post_kind(session: Session, name: str, duty: str, emergency: bool) -> bool:
    """Add a post kind or change its duty; returns whether it is new."""
    name = name.strip()
    if not name:
        raise UserError("岗位名称不能为空")
    ensure_post_kinds(session)
    kind = session.scalars(select(PostKind).where(PostKind.name == name)).first()
    if kind:
        kind.duty, kind.emergency = duty or kind.duty, emergency or kind.emergency
        return False
    session.add(PostKind(name=name, duty=duty, emergency=emergency))
    return True


def post_table(session: Session, cycle_id: int, community_id: int) -> list[dict]:
    """The community's posts with their capacity and holders, for review."""
    ensure_post_kinds(session)
    holders = defaultdict(list)
    for post_id, name in session.execute(select(PostClaim.post_id, Person.name).join(Person, PostClaim.person_id == Person.id)
                                         .join(Post, PostClaim.post_id == Post.id)
                                         .where(Post.cycle_id == cycle_id, Post.community_id == community_id)
                                         .order_by(Person.code)):
        holders[post_id].append(name)
    return [dict(kind=name, duty=duty, capacity=post.capacity, temporary=post.temporary, holders=holders[post.id])
            for post, name, duty in session.execute(select(Post, PostKind.name, PostKind.duty).join(PostKind)
                                                    .where(Post.cycle_id == cycle_id, Post.community_id == community_id)
                                                    .order_by(Post.temporary, PostKind.id))]


def write_claim_template(session: Session, path: Path, community_ids: list[int]) -> int:
    """A sheet to collect claims on paper: community and post as drop-downs."""
    ensure_post_kinds(session)
    communities = session.scalars(select(Community.name).where(Community.id.in_(community_ids)).order_by(Community.code)).all()
    kinds = session.scalars(select(PostKind.name).order_by(PostKind.id)).all()
    write_template(path, {SHEET: COLUMNS}, choices={"community": list(communities), "kind": list(kinds)}, notes=[
        "每行一人认领一个岗位：填人员编码（见组织架构表）、社区和岗位。一人可以认领多个岗位，每个岗位一行。",
        "岗位满员或重复认领的行会被指出，整个文件不导入。填好后运行：lianchuang posts import 本文件.xlsx"])
    return len(communities)


def claim(session: Session, cycle_id: int, rows: list[tuple[int, dict]], file: str, on: date) -> dict:
    """Record claims given as {person, community, kind} (codes or names). Every problem is listed and
    nothing is written if there is one; a claim already recorded is counted and skipped."""
    people, unknown_people = resolve(session, Person, {r.get("person", "") for _, r in rows})
    communities, unknown_communities = resolve(session, Community, {r.get("community", "") for _, r in rows})
    in_scope = (Post.cycle_id == cycle_id) & Post.community_id.in_([c.id for c in communities.values()])
    posts = {(p.community_id, name): p for p, name in session.execute(select(Post, PostKind.name).join(PostKind).where(in_scope))}
    taken = defaultdict(int, session.execute(select(PostClaim.post_id, func.count()).join(Post).where(in_scope)
                                             .group_by(PostClaim.post_id)).all())
    existing = set(session.execute(select(PostClaim.post_id, PostClaim.person_id).join(Post).where(in_scope)).tuples())
    problems, new, seen, already = [], [], {}, 0
    for number, row in rows:
        person, community = people.get(row.get("person", "")), communities.get(row.get("community", ""))
        if person is None:
            problems.append(Problem(file, number, "人员编码", unknown_people.get(row.get("person", ""), "必填：人员编码或姓名")))
        if community is None:
            problems.append(Problem(file, number, "社区", unknown_communities.get(row.get("community", ""), "必填：社区编码或名称")))
            continue
        post = posts.get((community.id, row.get("kind", "")))
        if post is None:
            problems.append(Problem(file, number, "岗位", f"{community.name}没有开设“{row.get('kind', '')}”"
                                                        "（用 lianchuang posts list 查看已开设的岗位）"))
        if person is None or post is None:
            continue
        if (post.id, person.id) in existing:
            already += 1
        elif (post.id, person.id) in seen:
            problems.append(Problem(file, number, "岗位", f"{person.name}已在第{seen[post.id, person.id]}行认领过这个岗位"))
        elif taken[post.id] >= post.capacity:
            problems.append(Problem(file, number, "岗位", f"{community.name}{row['kind']}已满员（{post.capacity}人）"))
        else:
            seen[post.id, person.id] = number
            taken[post.id] += 1
            new.append(dict(post_id=post.id, person_id=person.id, claimed_on=on))
    if problems:
        raise ImportRefused(problems)
    insert_ignoring_duplicates(session, PostClaim, new, ["post_id", "person_id"])
    return dict(rows=len(rows), new=len(new), already_there=already)


def import_claims(session: Session, cycle_id: int, path: Path, on: date) -> dict:
    reader = SheetReader(path, COLUMNS, sheet=None if path.suffix.lower() in (".csv", ".txt") else SHEET)
    if reader.problems:
        raise ImportRefused(reader.problems)
    rows = list(reader)
    if reader.cell_problems:
        raise ImportRefused(reader.cell_problems)
    if not rows:
        raise UserError(f"{reader.file}: 没有任何认领记录")
    return claim(session, cycle_id, rows, reader.file, on)


def open_emergency(session: Session, year: int, cycle_id: int, community: Community, kind_name: str, capacity: int,
                   situation: str, on: date) -> tuple[int, list[Draft]]:
    """Open (or enlarge) a temporary post and draft the rapid notice to the members of the community
    and of the other communities of its street. Returns the post's capacity and the drafts."""
    if capacity < 1:
        raise UserError("临时岗位人数至少为 1")
    ensure_post_kinds(session)
    kind = session.scalars(select(PostKind).where(PostKind.name == kind_name)).first()
    if kind is None:
        raise UserError(f"没有岗位“{kind_name}”：用 lianchuang posts kinds 查看，或用 lianchuang posts kind-add 新增")
    insert_ignoring_duplicates(session, Post, [dict(cycle_id=cycle_id, community_id=community.id, post_kind_id=kind.id,
                                                    capacity=capacity, temporary=True, opened_on=on)],
                               ["cycle_id", "community_id", "post_kind_id"])
    session.execute(update(Post).where(Post.cycle_id == cycle_id, Post.community_id == community.id,
                                       Post.post_kind_id == kind.id, Post.capacity < capacity).values(capacity=capacity))
    neighbours = select(Community.id).where(Community.street_id == community.street_id)
    people = session.scalars(select(Person).where(Person.community_id.in_(neighbours), Person.role.in_(RESPONDING_ROLES))
                             .order_by(Person.code)).all()
    context = dict(year=year, community=community.name, kind=kind.name, duty=kind.duty, capacity=capacity,
                   situation=situation, opened_on=on)
    drafts = [Draft.to_person(person, year, Stage.division, "emergency", period=f"{community.code}:{kind.name}:{on}",
                              context=context | dict(home=person.community_id == community.id))
              for person in people]
    return capacity, drafts


def write_callout_page(session: Session, year: int, community: Community, drafts: list[Draft]) -> tuple[list[dict], Path | None]:
    """The people of an emergency call-out who have no email, to phone or visit now, and a dated
    printable page with the list and a notice for each. Returns (people, page)."""
    from lianchuang.settings import get_settings
    from lianchuang.tasks.outbox.rendering import render_page

    unreachable = [d for d in drafts if not d.recipient_email]
    if not unreachable:
        return [], None
    found = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_([d.person_id for d in unreachable])))}
    names = dict(session.execute(select(Community.id, Community.name)).all())
    people = [dict(name=d.recipient_name, phone=found[d.person_id].phone, community=names.get(d.community_id, ""),
                   home=d.context["home"]) for d in unreachable]
    context = unreachable[0].context
    folder = get_settings().print_dir / str(year) / "紧急通知"
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / f"{context['opened_on'].isoformat()}-{community.code}.html"
    replace_file(page, render_page("print_callout.html", context | dict(people=people)))
    return people, page



def callout_chat_messages(session: Session, year: int, community: Community, kind: str, capacity: int,
                          situation: str, on: date) -> list[dict]:
    """The emergency call-out for the group chats of the community and of its street, @-ing the
    community's coordinators where the platform @s by phone (DingTalk)."""
    from lianchuang.models import Street
    from lianchuang.tasks.outbox.chats import channels_for

    street = session.get(Street, community.street_id)
    phones = [p for p in session.scalars(select(Person.phone).where(
        Person.community_id == community.id, Person.role == Role.community_coordinator, Person.phone.is_not(None))) if p]
    title = f"【临时设岗】{community.name}急需{kind}{capacity}人"
    text = (f"**{community.name}**（{street.name}）{on.month}月{on.day}日临时设岗：**{kind}**，需要 **{capacity}** 人。\n\n"
            f"情况：{situation}\n\n能来的党员群众请直接联系{community.name}社区党组织报名，详见邮件或社区张贴的通知。")
    return [dict(key=f"chat:callout:{year}:{community.code}:{kind}:{capacity}:{on.isoformat()}:{channel.id}", channel_id=channel.id,
                 year=year, title=title, markdown=text, mention_phones=",".join(phones))
            for channel in channels_for(session, [community.code, street.code])]
