"""The rules that decide the money, in one place: the monthly ranking's weights, the year score's
weights, the award tiers and the funding split. Each district sets its own per year as a scheme
(`lianchuang rules`), versioned: version 0 is the defaults below. The ranking rules lock with the
district's first published ranking of the year, the award rules with its first allocation; every
published figure names the version it used. The stages own how the rules are applied."""

import json
from dataclasses import asdict, dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from lianchuang.models import RuleScheme


@dataclass(frozen=True)
class Tier:
    name: str
    share: float  # of the district's communities (the first tier's share, then the next's on top)
    weight: float  # in the bonus pool


@dataclass(frozen=True)
class Rules:
    version: int = 0  # 0: the defaults, never adopted by anyone
    # Monthly ranking: score = progress_weight × progress score + on_time_weight × on-time score
    progress_weight: float = 0.7
    on_time_weight: float = 0.3
    # Year score: evaluation × evaluation + ranking × mean monthly score + innovation × innovation score
    evaluation_weight: float = 0.5
    ranking_weight: float = 0.3
    innovation_weight: float = 0.2
    tiers: tuple[Tier, ...] = field(default_factory=lambda: (Tier("一等奖", 0.1, 3), Tier("二等奖", 0.2, 2), Tier("三等奖", 0.3, 1)))
    base_share: float = 0.6  # of what is left of the budget after the fixed amounts, shared equally
    fixed_per_community: int = 0  # yuan every community receives first (seed 001: 5,000 元 per community)
    minimum_per_community: int = 0  # yuan no community receives less than (taken from those above it)

    RANKING_FIELDS = ("progress_weight", "on_time_weight")

    def ranking_part(self) -> tuple:
        return tuple(getattr(self, name) for name in self.RANKING_FIELDS)

    def award_part(self) -> tuple:
        return tuple(v for k, v in asdict(self).items() if k != "version" and k not in self.RANKING_FIELDS)

    def ranking_formula(self) -> str:
        return f"得分 = {self.progress_weight}×进度得分 + {self.on_time_weight}×按时得分"

    def to_json(self) -> str:
        values = asdict(self)
        values.pop("version")
        return json.dumps(values, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str, version: int) -> "Rules":
        values = json.loads(text)
        values["tiers"] = tuple(Tier(**tier) for tier in values.get("tiers", []))
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        return replace(cls(), version=version, **known)

    @property
    def label(self) -> str:
        return f"第{self.version}版规则" if self.version else "默认规则"


DEFAULT_RULES = Rules()

# The defaults by name, for samples, benchmarks and descriptions that are not about one district.
PROGRESS_WEIGHT, ON_TIME_WEIGHT = DEFAULT_RULES.progress_weight, DEFAULT_RULES.on_time_weight


def ranking_formula() -> str:
    return DEFAULT_RULES.ranking_formula() + "（各区可另定，见 rules_version 所指版本）"


def rules_for(session: Session, district_id: int, year: int) -> Rules:
    """The district's scheme in force for the year: its latest version, or the defaults."""
    scheme = session.scalars(select(RuleScheme).where(RuleScheme.district_id == district_id, RuleScheme.year == year)
                             .order_by(RuleScheme.version.desc()).limit(1)).first()
    return Rules.from_json(scheme.rules, scheme.version) if scheme else DEFAULT_RULES


def rules_by_district(session: Session, year: int) -> dict[int, Rules]:
    """Every district's scheme in force for the year (a district without one is absent: the defaults)."""
    latest = {}
    for scheme in session.scalars(select(RuleScheme).where(RuleScheme.year == year).order_by(RuleScheme.version)):
        latest[scheme.district_id] = Rules.from_json(scheme.rules, scheme.version)
    return latest
