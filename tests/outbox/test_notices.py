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
    assert html.count("<tr>") == 3 and html.count("<td>") == 4
    assert "&lt;b&gt;修路&lt;/b&gt;</td>" in html and "<td>—</td>" in html
    assert table(["编号"], [["T-1"]], html=False) == "编号\nT-1\n\n"


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
