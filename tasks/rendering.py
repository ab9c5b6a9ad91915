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


def yuan(amount: int | float | None) -> str:
    return f"{amount or 0:,.0f} 元"


def cn_date(day: date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else "—"


def label(value) -> str:
    """The Chinese label of an enumeration value (e.g. 'public_safety' → 治安联防)."""
    for labels in LABELS.values():
        for member, text in labels.items():
            if member == value:
                return text
    return str(value)


@lru_cache(maxsize=4)
def environment(html: bool) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=html, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(yuan=yuan, cn_date=cn_date, label=label)
    return env


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render_notice(template: str, context: dict) -> Rendered:
    """Render notices/<template>.j2 as (subject, text, html)."""
    from lianchuang.settings import get_settings

    settings = get_settings()
    context = {"contact": settings.contact, **context}
    parts = {}
    for html in (True, False):
        tmpl = environment(html).get_template(f"notices/{template}.j2")
        ctx = tmpl.new_context({**context, "fmt": "html" if html else "text"})
        subject = "".join(tmpl.blocks["subject"](ctx)).strip()
        parts[html] = (subject, tmpl.render({**context, "fmt": "html" if html else "text"}))
    return Rendered(subject=parts[False][0], text=parts[False][1].strip() + "\n", html=parts[True][1])


def render_page(template: str, context: dict) -> str:
    """Render an HTML page (document or board page), autoescaped, dated by the app's clock."""
    from lianchuang import clock

    return environment(True).get_template(template).render({"generated_on": clock.today(), **context})
