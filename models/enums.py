"""Enumerations of the domain, stored as their string values. Labels are the Chinese terms
coordinators use; `parse_label` accepts either the value or the label."""

from enum import StrEnum

LABELS: dict[type, dict] = {}


class Labeled(StrEnum):
    @property
    def label(self) -> str:
        return self._labels()[self]

    @classmethod
    def _labels(cls) -> dict:
        return LABELS[cls]

    @classmethod
    def parse(cls, text: str):
        """The member whose value or Chinese label is `text`, or None."""
        text = (text or "").strip()
        for member in cls:
            if text in (member.value, member.label):
                return member
        return None

    @classmethod
    def labels(cls) -> list[str]:
        return [m.label for m in cls]


class UnitKind(Labeled):
    """The parties of a community: the six source kinds of seed 003 plus the two at its core."""

    linked_leader = "linked_leader"
    linked_unit = "linked_unit"
    stationed_unit = "stationed_unit"
    civil_org = "civil_org"
    mass_org = "mass_org"
    residents = "residents"
    residents_committee = "residents_committee"
    party_org = "party_org"


LABELS[UnitKind] = {
    UnitKind.linked_leader: "挂点领导",
    UnitKind.linked_unit: "挂点单位",
    UnitKind.stationed_unit: "驻区单位",
    UnitKind.civil_org: "民间组织",
    UnitKind.mass_org: "群团组织",
    UnitKind.residents: "社区群众",
    UnitKind.residents_committee: "社区居委会",
    UnitKind.party_org: "社区党组织",
}

SOURCE_KINDS = [UnitKind.linked_leader, UnitKind.linked_unit, UnitKind.stationed_unit,
                UnitKind.civil_org, UnitKind.mass_org, UnitKind.residents]
"""The six kinds of source whose opinions are gathered at the start of the year."""


class Channel(Labeled):
    online = "online"
    notice_board = "notice_board"
    door_to_door = "door_to_door"
    party_meeting = "party_meeting"
    resident_meeting = "resident_meeting"
    joint_meeting = "joint_meeting"
    opinion_box = "opinion_box"
    info_card = "info_card"
    hotline = "hotline"


LABELS[Channel] = {
    Channel.online: "网络", Channel.notice_board: "公开栏", Channel.door_to_door: "入户",
    Channel.party_meeting: "党员大会", Channel.resident_meeting: "居民代表会",
    Channel.joint_meeting: "党建联席会", Channel.opinion_box: "意见箱",
    Channel.info_card: "民情信息卡", Channel.hotline: "热线电话",
}


class Category(Labeled):
    """The five areas of co-building (seed 003): the task and evaluation taxonomy."""

    party_building = "party_building"
    public_safety = "public_safety"
    sanitation = "sanitation"
    services = "services"
    culture = "culture"


LABELS[Category] = {
    Category.party_building: "党建联抓", Category.public_safety: "治安联防",
    Category.sanitation: "卫生联管", Category.services: "服务联手", Category.culture: "文体活动联谊",
}


class Role(Labeled):
    district_coordinator = "district_coordinator"
    street_coordinator = "street_coordinator"
    community_coordinator = "community_coordinator"
    unit_leader = "unit_leader"
    liaison = "liaison"
    serving_member = "serving_member"
    member_without_post = "member_without_post"
    activist = "activist"
    resident = "resident"
    resident_rep = "resident_rep"
    linked_leader = "linked_leader"  # a district leader linked to a community (挂点领导), asked in stage 1
    building_head = "building_head"  # 楼栋长: with the residents' representatives, the residents' voice


LABELS[Role] = {
    Role.district_coordinator: "区级联络人", Role.street_coordinator: "街道联络人",
    Role.community_coordinator: "社区联络人", Role.unit_leader: "单位负责人", Role.liaison: "联络员",
    Role.serving_member: "在职党员", Role.member_without_post: "无职党员", Role.activist: "积极分子",
    Role.resident: "热心居民", Role.resident_rep: "居民代表", Role.linked_leader: "挂点领导", Role.building_head: "楼栋长",
}


class Stage(Labeled):
    """The stages of the yearly cycle (三分三联工作法), in order."""

    opinions = "opinions"
    division = "division"
    commitments = "commitments"
    progress = "progress"
    evaluation = "evaluation"


LABELS[Stage] = {
    Stage.opinions: "征求意见·联席决策", Stage.division: "分工负责·设岗定责",
    Stage.commitments: "联名公开承诺", Stage.progress: "分步实施·月度排名",
    Stage.evaluation: "联合考评·创新奖",
}


class StageStatus(Labeled):
    not_started = "not_started"
    in_progress = "in_progress"
    done = "done"


LABELS[StageStatus] = {StageStatus.not_started: "未开始", StageStatus.in_progress: "进行中", StageStatus.done: "已完成"}


class OpinionStatus(Labeled):
    pending = "pending"
    adopted = "adopted"
    merged = "merged"
    declined = "declined"


LABELS[OpinionStatus] = {OpinionStatus.pending: "待议", OpinionStatus.adopted: "采纳",
                        OpinionStatus.merged: "合并", OpinionStatus.declined: "不采纳"}


class CommitmentKind(Labeled):
    statement = "statement"
    letter = "letter"


LABELS[CommitmentKind] = {CommitmentKind.statement: "责任状", CommitmentKind.letter: "承诺书"}


class EvaluatorGroup(Labeled):
    joint_head = "joint_head"
    stationed_units = "stationed_units"
    mass_orgs = "mass_orgs"
    civil_orgs = "civil_orgs"
    party_members = "party_members"
    resident_reps = "resident_reps"


LABELS[EvaluatorGroup] = {
    EvaluatorGroup.joint_head: "联席会负责人", EvaluatorGroup.stationed_units: "驻区单位",
    EvaluatorGroup.mass_orgs: "群团组织", EvaluatorGroup.civil_orgs: "民间组织",
    EvaluatorGroup.party_members: "党员", EvaluatorGroup.resident_reps: "居民代表",
}


class Grade(Labeled):
    excellent = "excellent"
    good = "good"
    fair = "fair"
    poor = "poor"


LABELS[Grade] = {Grade.excellent: "优秀", Grade.good: "良好", Grade.fair: "一般", Grade.poor: "较差"}
GRADE_POINTS = {Grade.excellent: 95, Grade.good: 80, Grade.fair: 65, Grade.poor: 40}


class NoticeStatus(Labeled):
    queued = "queued"
    sent = "sent"
    printed = "printed"
    failed = "failed"

    @classmethod
    def parse(cls, text: str):
        """Also the short words coordinators use: 待打印, 失败, 已发."""
        text = (text or "").strip()
        matches = [member for member in cls if text and text in member.label]
        return super().parse(text) or (matches[0] if len(matches) == 1 else None)


LABELS[NoticeStatus] = {NoticeStatus.queued: "待发送", NoticeStatus.sent: "已发送",
                       NoticeStatus.printed: "待打印送达", NoticeStatus.failed: "发送失败"}


# The same terms in English, for notices rendered with --locale en (keyed by value, shared across enumerations).
EN_LABELS = {
    "linked_leader": "linked leader", "linked_unit": "linked unit", "stationed_unit": "stationed unit",
    "civil_org": "civil organisation", "mass_org": "mass organisation", "residents": "residents",
    "residents_committee": "residents' committee", "party_org": "community party organisation",
    "online": "online", "notice_board": "public notice board", "door_to_door": "door-to-door visit",
    "party_meeting": "party members' meeting", "resident_meeting": "resident representatives' meeting",
    "joint_meeting": "joint meeting", "opinion_box": "opinion box", "info_card": "information card",
    "hotline": "hotline", "party_building": "party building", "public_safety": "public safety",
    "sanitation": "sanitation and environment", "services": "services to residents", "culture": "culture and sport",
    "joint_head": "head of the joint meeting", "stationed_units": "stationed units", "mass_orgs": "mass organisations",
    "civil_orgs": "civil organisations", "party_members": "party members", "resident_reps": "resident representatives",
    "statement": "responsibility statement", "letter": "commitment letter",
    "excellent": "excellent", "good": "good", "fair": "fair", "poor": "poor",
}
