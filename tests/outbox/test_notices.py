import re
from pathlib import Path

import pytest

from lianchuang.tasks.demo.samples import SAMPLES
from lianchuang.tasks.outbox.rendering import TEMPLATES_DIR, render_notice

TEMPLATES = sorted(p.stem for p in (Path(TEMPLATES_DIR) / "notices").glob("*.j2") if not p.stem.startswith("_"))
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_notice_template_has_sample_data():
    assert TEMPLATES == sorted(SAMPLES)


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_notice_renders_in_both_parts_and_both_locales(settings, template, locale):
    rendered = render_notice(template, {"recipient": "王建国", **SAMPLES[template]}, locale)
    assert rendered.subject and "\n" not in rendered.subject
    assert rendered.html.lstrip().startswith("<!doctype html>") and "</html>" in rendered.html
    assert "<" not in rendered.text and "王建国" in rendered.text


def without_chinese(value):
    """The same sample with every Chinese text replaced by ASCII, keeping its shape."""
    if isinstance(value, str):
        return "X" if CJK.search(value) else value
    if isinstance(value, (list, tuple)):
        return type(value)(without_chinese(v) for v in value)
    if isinstance(value, dict):
        return {k: without_chinese(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("template", TEMPLATES)
def test_english_notices_have_no_chinese_of_their_own(settings, template):
    context = without_chinese({"recipient": "Wang", "contact": "the district office", **SAMPLES[template]})
    rendered = render_notice(template, context, "en")
    assert not CJK.search(rendered.subject + rendered.text + rendered.html), rendered.text


def test_english_dates(settings):
    rendered = render_notice("solicitation", {"recipient": "Wang", **SAMPLES["solicitation"]}, "en")
    assert "31 January 2026" in rendered.text and "2026年1月31日" in render_notice(
        "solicitation", {"recipient": "Wang", **SAMPLES["solicitation"]}, "zh_CN").text


def test_dates_and_amounts_follow_the_locale(settings):
    context = {"recipient": "Wang", **SAMPLES["award"], "community": "Jiangbin", "award": None, "explanation": "x"}
    assert "32,815 元" in render_notice("award", context, "zh_CN").text
    assert "CNY 32,815" in render_notice("award", context, "en").text


def test_a_table_cell_is_escaped_and_cannot_split_into_more_cells():
    from lianchuang.tasks.outbox.rendering import table

    html = table(["编号", "任务"], [["T-1", "<b>修路</b>\x00\x01"], ["T-2", None]], empty="—", html=True)
    assert html.count("<tr>") == 3 and html.count("<td data-label=") == 4
    assert "&lt;b&gt;修路&lt;/b&gt;</td>" in html and '<td data-label="任务">—</td>' in html
    assert table(["编号"], [["T-1"]], html=False) == "编号\nT-1\n\n"


def test_paragraphs_and_lists_are_escaped_in_html_and_separated_in_text(settings):
    """The shared para and bullets (Python functions, not macros) give what the macros gave: <p> and
    <ul> with the text escaped in HTML; in text a blank line after a paragraph, a "  · " line per item."""
    from lianchuang.tasks.outbox.rendering import environment

    def rendered(html: bool) -> str:
        return environment(html).from_string('{% import "notices/_macros.j2" as m %}{{ m.para(a) }}{{ m.bullets(items) }}').render(
            a="A<b>&", items=["一<i>", "二"])

    assert rendered(True) == "<p>A&lt;b&gt;&amp;</p><ul><li>一&lt;i&gt;</li><li>二</li></ul>"
    assert rendered(False) == "A<b>&\n\n  · 一<i>\n  · 二\n\n"


def test_a_community_is_never_called_twice_a_community(settings):
    """Subjects said "江滨社区社区工作任务…" to a community coordinator."""
    community = render_notice("ranking", SAMPLES["ranking"] | dict(scope="community", scope_name="江滨社区",
                                                                   community="江滨社区", recipient="王明"), "zh_CN")
    district = render_notice("ranking", SAMPLES["ranking"] | dict(scope="district", scope_name="全区", recipient="王明",
                                                                  rows=[[1, 1, "江滨社区", "列东街道", 92.5, 95.0, 86.7, 12, 1]]), "zh_CN")
    assert "江滨社区工作任务进度及名次" in community.subject and "社区社区" not in community.subject
    assert "全区社区工作任务进度及名次" in district.subject
    emergency = render_notice("emergency", SAMPLES["emergency"] | dict(home=False, recipient="王明"), "zh_CN")
    assert "社区社区" not in emergency.text


def test_every_notice_says_whom_to_ask_and_answers_go_to_the_office(settings, monkeypatch):
    from lianchuang.settings import get_settings, reset_settings

    plain = render_notice("meeting", SAMPLES["meeting"] | {"recipient": "王明"}, "zh_CN").text
    assert "请勿直接回复" in plain  # no Reply-To set: replies would go nowhere
    assert "定于2026年2月17日 14:30在江滨社区党群服务中心会议室召开" in plain
    monkeypatch.setenv("LIANCHUANG_REPLY_TO", "lianluo@example.cn")
    monkeypatch.setenv("LIANCHUANG_CONTACT_PHONE", "0598-8234567")
    reset_settings()
    assert get_settings().reply_to == "lianluo@example.cn"
    for template in ("meeting", "solicitation", "overdue"):
        text = render_notice(template, SAMPLES[template] | {"recipient": "王明"}, "zh_CN").text
        assert "可直接回复本邮件" in text and "（电话 0598-8234567）" in text, template
    solicitation = render_notice("solicitation", SAMPLES["solicitation"] | {"recipient": "王明"}, "zh_CN").text
    assert "发送电子邮件至 lianluo@example.cn" in solicitation
    english = render_notice("meeting", SAMPLES["meeting"] | {"recipient": "Wang"}, "en").text
    assert "at 14:30, 江滨社区党群服务中心会议室" in english and "(phone 0598-8234567)" in english


def test_the_meeting_notice_has_the_day_time_and_place_given(district, session):
    from datetime import date

    from factories import add_opinion
    from sqlalchemy import select

    from lianchuang.models import Community
    from lianchuang.tasks.opinions.notices import meeting_drafts

    community = session.scalars(select(Community).order_by(Community.code)).first()
    add_opinion(session, community.id, "希望增加路灯")
    drafts = meeting_drafts(session, 2026, [community.id], date(2026, 2, 17), "9:00", "{community}二楼")
    assert drafts and {(d.context["time"], d.context["place"]) for d in drafts} == {("9:00", f"{community.name}二楼")}


def test_each_list_item_of_a_plain_text_part_is_on_its_own_line():
    """The bullets' line breaks were eaten by trim_blocks: two items ran on one line."""
    from lianchuang.tasks.demo.samples import SAMPLES
    from lianchuang.tasks.outbox.rendering import render_notice

    text = render_notice("evaluation_invitation", {"recipient": "王明", **SAMPLES["evaluation_invitation"]}, "zh_CN").text
    items = [line for line in text.splitlines() if line.lstrip().startswith("·")]
    assert len(items) == len(SAMPLES["evaluation_invitation"]["evidence"]) + len(SAMPLES["evaluation_invitation"]["categories"])
    assert all(line.count("·") == 1 for line in items), items
