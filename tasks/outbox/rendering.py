"""Jinja rendering of notices, documents and board pages.

A notice template is written once and rendered twice: as HTML (autoescaped) and as plain text,
with `fmt` (a global of each of the two environments) telling the shared macros which to produce.
Subjects come from the `subject` block."""

from dataclasses import dataclass
from datetime import date
from functools import lru_cache, partial
from importlib.resources import files

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from lianchuang.words import any_label

TEMPLATES_DIR = str(files("lianchuang") / "templates")


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
    try:
        return any_label(locale).get(value, str(value))
    except TypeError:  # an unhashable value has no label
        return str(value)


def table(headers, rows, label_columns=(), empty="", *, html: bool, locale: str = "zh_CN") -> str:
    """A table of rows of cells as HTML or as text lines joined by " | "; cells in label_columns
    show enumeration labels, None shows as `empty`. Written in Python rather than as a Jinja
    macro, whose per-cell overhead was most of the time of rendering the ranking emails (a
    province sends 5,000 a month, each with a 17-row table); the same table in many notices
    (a street's ranking goes to each of its communities) is built once."""
    return _table(tuple(headers), tuple(map(tuple, rows)), tuple(label_columns), empty, html, locale)


_SEPARATORS = {0: None, 1: None}  # the control characters escape_cells joins with, dropped from cells


@lru_cache(maxsize=1024)
def _table(headers: tuple, rows: tuple, label_columns: tuple, empty: str, html: bool, locale: str) -> str:
    if label_columns:
        rows = tuple(tuple(label(value, locale) if index in label_columns and value is not None else value
                           for index, value in enumerate(row)) for row in rows)
    lines = [headers, *([empty if value is None else value for value in row] for row in rows)]
    if not html:
        return "\n".join(" | ".join(map(str, cells)) for cells in lines) + "\n\n"
    names, *body = escape_cells(lines)
    header = "<tr>" + "".join(f"<th>{name}</th>" for name in names) + "</tr>\n"
    # Each cell names its column (data-label): on a phone an email's wide table stacks, a block per
    # row with every cell labelled, so no column is off the screen (the layout's CSS).
    opening = [f'<td data-label="{name}">' for name in names]
    body = "".join("<tr>" + "".join(o + cell + "</td>" for o, cell in zip(opening, row)) + "</tr>\n" for row in body)
    wide = " stack" if len(names) >= STACKED_FROM else ""
    return Markup(f'<div class="scroll{wide}" style="overflow-x:auto;-webkit-overflow-scrolling:touch"><table>{header}{body}</table></div>')


STACKED_FROM = 4  # columns: a narrower table fits a phone as it is


def paragraph(text, *, html: bool) -> str:
    """A paragraph: <p> in HTML, followed by an empty line in text."""
    return Markup(f"<p>{escape(text)}</p>") if html else f"{text}\n\n"


def bullet_list(items, *, html: bool) -> str:
    """A list: <ul> in HTML, "  · " lines in text."""
    if html:
        return Markup("<ul>" + "".join(f"<li>{escape(item)}</li>" for item in items) + "</ul>")
    return "".join(f"  · {item}\n" for item in items) + "\n"


def escape_cells(lines: list) -> list[list[str]]:
    """Every cell of every line HTML-escaped in one call: joined with control characters, escaped
    once, split again (a province's board has 150,000 tasks: escaped cell by cell, this took 5.5 s).
    A cell holding one of those characters loses it."""
    if not lines:
        return []
    text = _joined(lines)
    if text.count("\x00") + text.count("\x01") != sum(map(len, lines)) - 1:  # a cell held one: drop them
        text = _joined([[str(cell).translate(_SEPARATORS) for cell in cells] for cells in lines])
    return [row.split("\x00") for row in str(escape(text)).split("\x01")]


def _joined(lines: list) -> str:
    return "\x01".join("\x00".join(map(str, cells)) for cells in lines)


@lru_cache(maxsize=8)
def environment(html: bool, locale: str = "zh_CN") -> Environment:
    """Templates of the locale first (templates/<locale>/...), then the Chinese defaults."""
    folders = [TEMPLATES_DIR] if locale == "zh_CN" else [f"{TEMPLATES_DIR}/{locale}", TEMPLATES_DIR]
    # Templates do not change while the app runs; not checking their files saves a stat per render.
    env = Environment(loader=FileSystemLoader(folders), autoescape=html, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.filters.update(yuan=lambda v: yuan(v, locale), cn_date=lambda d: cn_date(d, locale),
                       label=lambda v: label(v, locale))
    # fmt is a global of each environment, so the shared macros are imported without the render's
    # context: Jinja then builds their module once, not once per notice.
    env.globals.update(locale=locale, fmt="html" if html else "text", table_markup=partial(table, html=html, locale=locale),
                       paragraph=partial(paragraph, html=html), bullet_list=partial(bullet_list, html=html))
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
    context = {"contact": settings.contact, "contact_phone": settings.contact_phone, "reply_to": settings.reply_to,
               "suggestion_email": settings.suggestion_email or settings.reply_to, **context}
    html, text = (environment(html, locale or settings.locale).get_template(f"notices/{template}.j2") for html in (True, False))
    subject = "".join(text.blocks["subject"](text.new_context(context))).strip()
    return Rendered(subject=subject, text=text.render(context).strip() + "\n", html=html.render(context))


def render_page(template: str, context: dict) -> str:
    """Render an HTML page (document or board page), autoescaped, dated by the app's clock."""
    from lianchuang import clock

    # Board pages and documents to sign are public Chinese documents, whatever the notices' locale.
    return environment(True).get_template(template).render({"generated_on": clock.today(), **context})
