"""Jinja rendering of notices, documents and board pages.

A notice template is written once and rendered twice: as HTML (autoescaped) and as plain text,
with `fmt` telling the shared macros which to produce. Subjects come from the `subject` block."""

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib.resources import files

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from lianchuang.models.enums import LABELS

TEMPLATES_DIR = str(files("lianchuang") / "templates")


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
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]


def yuan(amount: int | float | None, locale: str = "zh_CN") -> str:
    return f"{amount or 0:,.0f} 元" if locale == "zh_CN" else f"CNY {amount or 0:,.0f}"


def cn_date(day: date | None, locale: str = "zh_CN") -> str:
    if not day:
        return "—"
    return f"{day.year}年{day.month}月{day.day}日" if locale == "zh_CN" else f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"


def label(value, locale: str = "zh_CN") -> str:
    """The label of an enumeration value in the locale (e.g. 'public_safety' → 治安联防)."""
    if locale != "zh_CN":
        return EN_LABELS.get(str(value), str(value))
    for labels in LABELS.values():
        for member, text in labels.items():
            if member == value:
                return text
    return str(value)


@lru_cache(maxsize=8)
def environment(html: bool, locale: str = "zh_CN") -> Environment:
    """Templates of the locale first (templates/<locale>/...), then the Chinese defaults."""
    folders = [TEMPLATES_DIR] if locale == "zh_CN" else [f"{TEMPLATES_DIR}/{locale}", TEMPLATES_DIR]
    env = Environment(loader=FileSystemLoader(folders), autoescape=html, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(yuan=lambda v: yuan(v, locale), cn_date=lambda d: cn_date(d, locale),
                       label=lambda v: label(v, locale))
    env.globals["locale"] = locale
    return env


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render_notice(template: str, context: dict, locale: str | None = None) -> Rendered:
    """Render notices/<template>.j2 as (subject, text, html) in the locale (default: settings)."""
    from lianchuang.settings import get_settings

    settings = get_settings()
    context = {"contact": settings.contact, **context}
    parts = {}
    for html in (True, False):
        tmpl = environment(html, locale or settings.locale).get_template(f"notices/{template}.j2")
        ctx = tmpl.new_context({**context, "fmt": "html" if html else "text"})
        subject = "".join(tmpl.blocks["subject"](ctx)).strip()
        parts[html] = (subject, tmpl.render({**context, "fmt": "html" if html else "text"}))
    return Rendered(subject=parts[False][0], text=parts[False][1].strip() + "\n", html=parts[True][1])


def render_page(template: str, context: dict) -> str:
    """Render an HTML page (document or board page), autoescaped, dated by the app's clock."""
    from lianchuang import clock

    # Board pages and documents to sign are public Chinese documents, whatever the notices' locale.
    return environment(True).get_template(template).render({"generated_on": clock.today(), **context})
