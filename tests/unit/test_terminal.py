"""Tables read in an 80-column terminal: Chinese breaks as it is typeset (no line starts with a
closing mark nor ends with an opening one) and an email address is never cut."""

import io
import re

from rich.console import Console

from lianchuang.commands.common import fitted_table
from lianchuang.commands.terminal import NO_LINE_END, NO_LINE_START, line_starts


def rendered(table) -> list[str]:
    out = io.StringIO()
    Console(file=out, width=80, color_system=None).print(table)
    return out.getvalue().splitlines()


def cells_of(lines: list[str]) -> list[str]:
    """Each table cell's text on each line (between the box's vertical bars)."""
    return [cell.strip() for line in lines for cell in re.split(r"[│┃]", line)[1:-1] if cell.strip()]


def test_the_explain_table_breaks_no_line_before_a_comma_or_a_closing_bracket():
    table = fitted_table("评议主体", "评议人（票数）", "最少人数", "各等次票数", "平均分", "权重", "折算权重")
    for _ in range(3):
        table.add_row("联席会负责人（记名）", "1（1）", "1", "（不足3人，不列出）", "（不足3人，不公布），人数不足不计", "0.2", "28.6%")
    cells = cells_of(rendered(table))
    assert not [c for c in cells if c[0] in NO_LINE_START], cells
    assert not [c for c in cells if c[-1] in NO_LINE_END], cells
    assert all(len(line) <= 80 for line in rendered(table))


def test_an_email_address_stays_on_one_line_in_a_crowded_table():
    table = fitted_table("编号", "收件人", "邮箱", "主题", "状态", "说明")
    table.add_row("4411", "白然", "d01-office@demo.lianchuang.cn", "【创新奖及经费】梅列区2026年度社区党建创新奖评选结果和经费分配", "已发送", "")
    lines = rendered(table)
    assert any("d01-office@demo.lianchuang.cn" in line for line in lines) and all(len(line) <= 80 for line in lines)


def test_line_starts_hold_marks_and_ascii_words_to_their_neighbours():
    text = "到12月底完成（含验收），联系 wang@example.cn 确认。"
    for width in range(6, 30):
        starts = line_starts(text, width)
        lines = [text[a:b] for a, b in zip([0, *starts], [*starts, len(text)])]
        assert "".join(lines) == text
        assert not [line for line in lines[1:] if line[0] in NO_LINE_START], (width, lines)
        if width >= 15:
            assert any("wang@example.cn" in line for line in lines), (width, lines)
