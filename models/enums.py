"""Enumerations of the domain, stored as their string values. Labels are the Chinese terms
coordinators use, in the word catalogue (catalogue/zh_CN.toml, a section per enumeration);
`parse` accepts either the value or the label."""

from enum import StrEnum

from lianchuang.words import word


class Labeled(StrEnum):
    @property
    def label(self) -> str:
        return word(type(self).__name__, self.value)

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


class UserRole(Labeled):
    """The levels of the three-level tree a database user acts for (issue 33)."""

    district = "district"
    street = "street"
    community = "community"
    unit = "unit"


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


class Category(Labeled):
    """The five areas of co-building (seed 003): the task and evaluation taxonomy."""

    party_building = "party_building"
    public_safety = "public_safety"
    sanitation = "sanitation"
    services = "services"
    culture = "culture"


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


class Stage(Labeled):
    """The stages of the yearly cycle (三分三联工作法), in order."""

    opinions = "opinions"
    division = "division"
    commitments = "commitments"
    progress = "progress"
    evaluation = "evaluation"


class StageStatus(Labeled):
    not_started = "not_started"
    in_progress = "in_progress"
    done = "done"


class OpinionStatus(Labeled):
    pending = "pending"
    adopted = "adopted"
    merged = "merged"
    declined = "declined"


class CommitmentKind(Labeled):
    statement = "statement"
    letter = "letter"


class EvaluatorGroup(Labeled):
    joint_head = "joint_head"
    stationed_units = "stationed_units"
    mass_orgs = "mass_orgs"
    civil_orgs = "civil_orgs"
    party_members = "party_members"
    resident_reps = "resident_reps"


class Grade(Labeled):
    excellent = "excellent"
    good = "good"
    fair = "fair"
    poor = "poor"


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
