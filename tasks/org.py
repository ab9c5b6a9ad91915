"""Loading a real district (or the demo's): streets, communities, units and people.

The workbook has four sheets; every row refers to others by code (or name). The import checks the
whole workbook against itself and the database and either loads all of it or nothing. Loading is
an upsert by code, so importing a corrected workbook again updates rows instead of duplicating."""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, object_session

from lianchuang.errors import ImportRefused, Problem, UserError
from lianchuang.models import Community, District, Person, Street, Unit
from lianchuang.models.db import chunked, insert_ignoring_duplicates
from lianchuang.models.enums import Category, Role, UnitKind
from lianchuang.tasks.files import check_output
from lianchuang.tasks.outbox.drafts import is_valid_email
from lianchuang.tasks.sheets import Column, read_workbook, write_template

STREETS, COMMUNITIES, UNITS, PEOPLE = "街道", "社区", "单位", "人员"
SAFE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")  # codes name the board's and print pages' files
SHEETS = {
    STREETS: [Column("code", "街道编码", ("street code",), True), Column("name", "街道名称", ("street", "name"), True, name=True),
              Column("district_code", "区编码", ("district code",), True), Column("district_name", "区名称", ("district",), True, name=True)],
    COMMUNITIES: [Column("code", "社区编码", ("community code",), True), Column("name", "社区名称", ("community", "name"), True, name=True),
                  Column("street", "所属街道", ("street",), True)],
    UNITS: [Column("code", "单位编码", ("unit code",), True), Column("name", "单位名称", ("unit", "name"), True, name=True),
            Column("kind", "类别", ("kind", "type"), True), Column("community", "所在社区", ("community",), True),
            Column("strengths", "特长", ("strengths",), multiline=True), Column("capacity", "可承担任务数", ("capacity",))],
    PEOPLE: [Column("code", "人员编码", ("person code",), True), Column("name", "姓名", ("name",), True, limit=64, name=True),
             Column("role", "身份", ("role",), True), Column("community", "所在社区", ("community",)),
             Column("street", "所在街道", ("street",)), Column("district", "所在区", ("district",)),
             Column("unit", "所属单位", ("unit",)), Column("email", "电子邮箱", ("email", "e-mail"), limit=255),
             Column("phone", "电话", ("phone", "tel"), limit=32)],
}


@dataclass
class OrgData:
    """Rows to load, referring to each other by code."""

    districts: list[dict] = field(default_factory=list)  # code, name
    streets: list[dict] = field(default_factory=list)  # code, name, district (code)
    communities: list[dict] = field(default_factory=list)  # code, name, street (code)
    units: list[dict] = field(default_factory=list)  # code, name, kind, community (code), strengths, capacity
    people: list[dict] = field(default_factory=list)  # code, name, role, community/street/district/unit (codes), email, phone


def _upsert_by_code(session: Session, model, rows: list[dict]) -> dict[str, int]:
    """Insert new codes, update existing ones; returns code → id for every code in `rows`."""
    codes = [row["code"] for row in rows]
    existing = {}
    for chunk in chunked(codes):
        existing.update(session.execute(select(model.code, model.id).where(model.code.in_(chunk))).all())
    insert_ignoring_duplicates(session, model, [r for r in rows if r["code"] not in existing], ["code"])
    updates = [dict(r, id=existing[r["code"]]) for r in rows if r["code"] in existing]
    if updates:
        session.execute(update(model), updates)
    ids = {}
    for chunk in chunked(codes):
        ids.update(session.execute(select(model.code, model.id).where(model.code.in_(chunk))).all())
    return ids


def load_org(session: Session, data: OrgData) -> dict[str, int]:
    """Upsert the organisation; references must already be resolved to existing codes."""
    district_ids = _upsert_by_code(session, District, data.districts)
    street_ids = _upsert_by_code(session, Street, [dict(code=s["code"], name=s["name"], district_id=district_ids[s["district"]])
                                                   for s in data.streets])
    known = lambda model, codes: dict(session.execute(select(model.code, model.id).where(model.code.in_(codes))).all())
    street_ids |= known(Street, {c["street"] for c in data.communities} - set(street_ids))
    community_ids = _upsert_by_code(session, Community, [
        dict(code=c["code"], name=c["name"], street_id=street_ids[c["street"]]) for c in data.communities])
    community_ids |= known(Community, {u["community"] for u in data.units} | {p.get("community") for p in data.people})
    unit_ids = _upsert_by_code(session, Unit, [
        dict(code=u["code"], name=u["name"], kind=u["kind"], community_id=community_ids[u["community"]],
             strengths=u.get("strengths", ""), capacity=u.get("capacity", 3)) for u in data.units])
    unit_ids |= known(Unit, {p.get("unit") for p in data.people} - set(unit_ids))
    street_ids |= known(Street, {p.get("street") for p in data.people} - set(street_ids))
    district_ids |= known(District, {p.get("district") for p in data.people} - set(district_ids))
    _upsert_by_code(session, Person, [
        dict(code=p["code"], name=p["name"], role=p["role"], community_id=community_ids.get(p.get("community")),
             street_id=street_ids.get(p.get("street")), district_id=district_ids.get(p.get("district")),
             unit_id=unit_ids.get(p.get("unit")), email=p.get("email") or None, phone=p.get("phone") or None)
        for p in data.people])
    return dict(districts=len(data.districts), streets=len(data.streets), communities=len(data.communities),
                units=len(data.units), people=len(data.people))


class _Resolver:
    """Finds a row the workbook refers to by code or by a name only one row has, among the
    workbook's rows and the database's."""

    def __init__(self, session: Session, model, new_rows: list[dict]):
        names: dict[str, set[str]] = {}  # a row's old name (in the database) still finds it while it is renamed
        for code, name in [*session.execute(select(model.code, model.name)), *((r["code"], r.get("name")) for r in new_rows)]:
            names.setdefault(code, {code})
            if name:
                names.setdefault(name, set()).add(code)
        self.codes = names

    def __call__(self, text: str) -> str | None:
        codes = self.codes.get(text, set())
        return next(iter(codes)) if len(codes) == 1 else None

    def why_not(self, text: str, what: str) -> str:
        codes = sorted(self.codes.get(text, ()))
        if len(codes) > 1:
            return f"有 {len(codes)} 个{what}叫“{text}”：{'、'.join(codes[:5])}；请改填编码"
        return f"找不到{what}“{text}”"


def parse_workbook(session: Session, path: Path) -> OrgData:
    """Read and check an organisation workbook; raises ImportRefused listing every problem."""
    problems: list[Problem] = []
    sheets = read_workbook(path, SHEETS, problems)
    if problems:
        raise ImportRefused(problems)
    data = OrgData()

    def require(sheet, number, row, key, header):
        if not row.get(key):
            problems.append(Problem(sheet.file, number, header, "必填，不能为空"))
            return False
        return True

    def unique(sheet, rows):
        seen = {}
        for number, row in rows:
            if row.get("code") and not SAFE_CODE.fullmatch(row["code"]):
                problems.append(Problem(sheet.file, number, SHEETS[sheet.file.split("/")[-1]][0].header,
                                        f"编码“{row['code'][:40]}”只能用字母、数字、- 和 _（最多32个字符）：它会成为文件名"))
            if row.get("code") in seen:
                problems.append(Problem(sheet.file, number, SHEETS[sheet.file.split("/")[-1]][0].header,
                                        f"编码 {row['code']} 与第{seen[row['code']]}行重复"))
            seen.setdefault(row.get("code"), number)

    streets_sheet = sheets[STREETS]
    unique(streets_sheet, streets_sheet.rows)
    districts = {}
    for number, row in streets_sheet.rows:
        if all(require(streets_sheet, number, row, c.key, c.header) for c in SHEETS[STREETS]):
            districts[row["district_code"]] = dict(code=row["district_code"], name=row["district_name"])
            data.streets.append(dict(code=row["code"], name=row["name"], district=row["district_code"]))
    data.districts = list(districts.values())
    street_of = _Resolver(session, Street, data.streets)

    sheet = sheets[COMMUNITIES]
    unique(sheet, sheet.rows)
    for number, row in sheet.rows:
        if all(require(sheet, number, row, c.key, c.header) for c in SHEETS[COMMUNITIES]):
            street = street_of(row["street"])
            if street is None:
                problems.append(Problem(sheet.file, number, "所属街道", street_of.why_not(row["street"], "街道")))
            data.communities.append(dict(code=row["code"], name=row["name"], street=street))
    community_of = _Resolver(session, Community, data.communities)

    sheet = sheets[UNITS]
    unique(sheet, sheet.rows)
    for number, row in sheet.rows:
        if not all(require(sheet, number, row, c.key, c.header) for c in SHEETS[UNITS][:4]):
            continue
        kind, community = UnitKind.parse(row["kind"]), community_of(row["community"])
        if kind is None:
            problems.append(Problem(sheet.file, number, "类别", f"“{row['kind']}”不是有效类别，可选：{'、'.join(UnitKind.labels())}"))
        if community is None:
            problems.append(Problem(sheet.file, number, "所在社区", community_of.why_not(row["community"], "社区")))
        strengths = [Category.parse(s) for s in row.get("strengths", "").replace("，", ",").replace("、", ",").split(",") if s.strip()]
        if None in strengths:
            problems.append(Problem(sheet.file, number, "特长", f"特长只能填：{'、'.join(Category.labels())}（可多选，用顿号分隔）"))
        capacity = row.get("capacity") or "3"
        if not capacity.isdecimal() or int(capacity) > 1000:
            problems.append(Problem(sheet.file, number, "可承担任务数", f"“{capacity}”应为 0 到 1000 的整数"))
        data.units.append(dict(code=row["code"], name=row["name"], kind=kind, community=community,
                               strengths=",".join(s for s in strengths if s), capacity=int(capacity) if capacity.isdecimal() and int(capacity) <= 1000 else 3))
    unit_of = _Resolver(session, Unit, data.units)
    district_of = _Resolver(session, District, data.districts)

    sheet = sheets[PEOPLE]
    unique(sheet, sheet.rows)
    for number, row in sheet.rows:
        if not all(require(sheet, number, row, c.key, c.header) for c in SHEETS[PEOPLE][:3]):
            continue
        role = Role.parse(row["role"])
        person = dict(code=row["code"], name=row["name"], role=role, email=row.get("email"), phone=row.get("phone"))
        if role is None:
            problems.append(Problem(sheet.file, number, "身份", f"“{row['role']}”不是有效身份，可选：{'、'.join(Role.labels())}"))
        for key, header, resolve in (("community", "所在社区", community_of), ("street", "所在街道", street_of),
                                     ("district", "所在区", district_of), ("unit", "所属单位", unit_of)):
            if row.get(key):
                person[key] = resolve(row[key])
                if person[key] is None:
                    problems.append(Problem(sheet.file, number, header, resolve.why_not(row[key], header.removeprefix("所在").removeprefix("所属"))))
        scope = {Role.district_coordinator: ("district", "所在区"), Role.street_coordinator: ("street", "所在街道")}.get(role, ("community", "所在社区"))
        if role and not row.get(scope[0]):
            problems.append(Problem(sheet.file, number, scope[1], f"{role.label}必须填写{scope[1]}"))
        if row.get("email") and not is_valid_email(row["email"]):
            problems.append(Problem(sheet.file, number, "电子邮箱", f"“{row['email']}”不是有效的电子邮箱地址（没有邮箱请留空）"))
        data.people.append(person)
    if problems:
        raise ImportRefused(problems)
    return data


def write_org_template(path: Path, force: bool = False) -> None:
    check_output(path, force)  # before any work: never the database, never a file the user filled in
    write_template(path, SHEETS, choices={"kind": UnitKind.labels(), "role": Role.labels()}, samples={
        STREETS: [["S01", "列东街道", "D01", "梅列区"]],
        COMMUNITIES: [["S01C01", "江滨社区", "S01"]],
        UNITS: [["U0001", "江滨社区党支部", UnitKind.party_org.label, "S01C01", "", "3"],
                ["U0002", "市供电公司", UnitKind.stationed_unit.label, "江滨社区", "治安联防、服务联手", "3"]],
        PEOPLE: [["P0001", "王建国", Role.community_coordinator.label, "S01C01", "", "", "U0001", "wangjg@example.cn", ""],
                 ["P0002", "林秀英", Role.resident_rep.label, "江滨社区", "", "", "", "", "13800000000"]],
    }, notes=["填写说明：", "1. 每个工作表第1行是表头，请勿修改；从第2行起填写。填写示例在本页下方，导入时不读取本页。",
              "2. 编码在全区唯一；引用其他表时可填编码或名称。", "3. 区、街道联络人分别填写“所在区”“所在街道”，其他人员填写“所在社区”。",
              "4. 没有电子邮箱的人员请留空，通知会生成纸质版供打印送达。",
              "征求意见时六类对象这样联系（缺哪类，征求意见报告会标出）：",
              "  · 挂点单位、驻区单位、民间组织、群团组织：在“单位”表填单位和类别，在“人员”表填该单位的“单位负责人”（没有则填“联络员”），通知发给他们；",
              "  · 挂点领导：在“人员”表填身份“挂点领导”，所在社区填其挂点的社区；",
              "  · 社区群众：在“人员”表填“居民代表”和“楼栋长”（所在社区），并打印各社区的征求意见公告（含意见表）张贴到公开栏。",
              "5. 填好后运行：lianchuang org import 本文件.xlsx（有任何错误则整个文件不导入，并逐条列出行列位置）。"])


def org_overview(session: Session) -> list[dict]:
    """Every community with its street, district and counts of units and people."""
    from sqlalchemy import func

    units = dict(session.execute(select(Unit.community_id, func.count()).group_by(Unit.community_id)).all())
    people = dict(session.execute(select(Person.community_id, func.count()).group_by(Person.community_id)).all())
    rows = session.execute(select(District.name, Street.name, Community.code, Community.name, Community.id)
                           .join(Street, Street.district_id == District.id).join(Community, Community.street_id == Street.id)
                           .order_by(Community.code)).all()
    return [dict(district=d, street=s, code=code, community=name, units=units.get(cid, 0), people=people.get(cid, 0))
            for d, s, code, name, cid in rows]


def import_org_file(path: Path) -> dict:
    """`org import`: the whole workbook or nothing, audited; returns the counts by level."""
    from lianchuang.models.db import session_scope
    from lianchuang.tasks.cycle import audit

    with session_scope() as session:
        counts = load_org(session, parse_workbook(session, path))
        audit(session, "import", "org", file=str(path), **counts)
        return counts


def organisation() -> list[dict]:
    from lianchuang.models.db import session_scope

    with session_scope() as session:
        return org_overview(session)


WHAT = {District: "区", Street: "街道", Community: "社区", Unit: "单位", Person: "人员"}


class Unresolved(str):
    """Why a name found no row: the text said to the coordinator; `shared` when several rows have it."""

    shared = False
QUALIFIED = "/"  # "列东街道/江滨社区": a name within its place (names may not hold "/")


def resolve(session: Session, model, texts: Iterable[str]) -> tuple[dict[str, object], dict[str, str]]:
    """The one resolver of names: districts, streets, communities, units or people as coordinators
    name them: by code, by a name only one of them has, or by a name qualified with its place
    ("列东街道/江滨社区", "江滨社区/王芳"). Returns (text → row, text → why not), the second listing
    the candidates of a shared name, each with its place, so the coordinator can pick."""
    texts = {t.strip() for t in texts if t and t.strip()}
    found = {row.code: row for chunk in chunked(texts) for row in session.scalars(select(model).where(model.code.in_(chunk)))}
    wanted = {text: _split(text) for text in texts - set(found)}
    by_name: dict[str, list] = {}
    for chunk in chunked({name for _, name in wanted.values()} | set(wanted)):
        for row in session.scalars(select(model).where(model.name.in_(chunk)).order_by(model.code)):
            by_name.setdefault(row.name, []).append(row)
    what, missing = WHAT[model], {}
    for text, (place, name) in wanted.items():
        rows = by_name.get(text) or [row for row in by_name.get(name, []) if place is None or place in _places(row)]
        if len(rows) == 1:
            found[text] = rows[0]
        elif rows:
            missing[text] = Unresolved(f"有 {len(rows)} 个{what}叫“{name}”：" + "、".join(_described(row) for row in rows[:5])
                                       + f"；请改填编码，或写成“{_place_name(rows[0])}{QUALIFIED}{name}”这样带上所在地方的名称")
            missing[text].shared = True
        else:
            missing[text] = Unresolved(f"找不到{what}“{text}”：没有这个编码或名称（用 lianchuang org list 查看）")
    return found, missing


def resolve_one(session: Session, model, text: str):
    """One district, street, community, unit or person named by a coordinator, else a user error saying why."""
    found, missing = resolve(session, model, [text])
    if (text or "").strip() not in found:
        raise UserError(missing.get((text or "").strip(), f"请给出{WHAT[model]}的编码或名称"))
    return found[text.strip()]


class Lookup:
    """resolve() for a file read row by row: each distinct text is looked up once."""

    def __init__(self, session: Session, model):
        self.session, self.model, self.seen = session, model, {}

    def __call__(self, text: str) -> tuple[object | None, str]:
        """(the row, "") or (None, why not)."""
        text = (text or "").strip()
        if text not in self.seen:
            found, missing = resolve(self.session, self.model, [text]) if text else ({}, {})
            self.seen[text] = (found.get(text), missing.get(text, f"请填写{WHAT[self.model]}"))
        return self.seen[text]


def _split(text: str) -> tuple[str | None, str]:
    place, _, name = text.rpartition(QUALIFIED)
    return (place.strip() or None, name.strip()) if place else (None, text)


def _places(row) -> set[str]:
    """The codes and names of the places a row lies in, as a qualified name may give one."""
    places = []
    if isinstance(row, Street):
        places = [row.district]
    elif isinstance(row, Community):
        places = [row.street, row.street.district]
    elif isinstance(row, Unit):
        places = [row.community, row.community.street]
    elif isinstance(row, Person):
        places = _person_places(row)
    return {key for place in places for key in (place.code, place.name)}


def _person_places(person: Person) -> list:
    """A person's unit, community, street and district, as far as the workbook gave them."""
    session = object_session(person)
    return [place for place in (person.unit, *(session.get(model, key) for model, key in (
        (Community, person.community_id), (Street, person.street_id), (District, person.district_id)) if key)) if place]


def _place_name(row) -> str:
    place = {Street: lambda r: r.district, Community: lambda r: r.street, Unit: lambda r: r.community,
             Person: lambda r: next(iter(_person_places(r)), None)}.get(type(row), lambda r: None)(row)
    return place.name if place is not None else ""


def _described(row) -> str:
    """A candidate as a coordinator tells them apart: code, and where it is (and what it is)."""
    if isinstance(row, Person):
        place, role = (row.unit.name if row.unit else _place_name(row)), row.role.label
    elif isinstance(row, Unit):
        place, role = row.community.name, row.kind.label
    else:
        place, role = _place_name(row), ""
    inside = "·".join(p for p in (place, role) if p)
    return f"{row.code}（{inside}）" if inside else row.code
