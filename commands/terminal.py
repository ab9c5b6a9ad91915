"""Tables for an 80-column terminal that break lines as Chinese typesetting does: a line never
starts with a closing mark ("，", "）", "。"…) nor ends with an opening one ("（", "“"…), and an
email address, a code, a number or a path is never cut (unless it is wider than its column)."""

import re

from rich.cells import cell_len
from rich.containers import Lines
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

NO_LINE_START = set("，。、；：！？）》」』】〕”’%…·,.;:!?)]}")
NO_LINE_END = set("（《「『【〔“‘([{")
_PIECE = re.compile(r"[A-Za-z0-9@._+\-:/%#=&?~]+|.", re.S)  # what may not be cut: a run of ASCII word characters
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[A-Za-z]{2,}")
WIDEST_UNIT = 32  # cells: a longer address or path may still be folded, rather than squeeze every other column


def _pieces(text: str, width: int) -> list[tuple[int, str]]:
    """(offset, piece) of the text: ASCII runs whole unless wider than `width`, else characters."""
    found = []
    for match in _PIECE.finditer(text):
        piece = match.group()
        if cell_len(piece) > width:
            found += [(match.start() + i, c) for i, c in enumerate(piece)]
        else:
            found.append((match.start(), piece))
    return found


def line_starts(text: str, width: int) -> list[int]:
    """The offsets where the lines after the first begin, filling each up to `width` cells and
    moving a break back so that punctuation stays with its neighbour."""
    pieces = _pieces(text, max(width, 1))
    starts, first, used, i = [], 0, 0, 0
    while i < len(pieces):
        cells = cell_len(pieces[i][1])
        if used + cells <= width or i == first:
            used, i = used + cells, i + 1
            continue
        cut = i
        while cut > first + 1 and (pieces[cut][1][0] in NO_LINE_START or pieces[cut - 1][1][-1] in NO_LINE_END):
            cut -= 1
        starts.append(pieces[cut][0])
        first, used, i = cut, 0, cut
    return starts


def _units(text: str) -> list[str]:
    """The pieces no line may split: an ASCII run, or a character with the marks held to it."""
    units: list[str] = []
    for _, piece in _pieces(text, WIDEST_UNIT):
        if units and (piece[0] in NO_LINE_START or units[-1][-1] in NO_LINE_END):
            units[-1] += piece
        else:
            units.append(piece)
    return units


class ChineseText(Text):
    """Text that wraps at the line starts above (rich would fold Chinese anywhere)."""

    def wrap(self, console, width, *, justify=None, overflow=None, tab_size=8, no_wrap=None) -> Lines:
        if no_wrap or self.no_wrap:
            return super().wrap(console, width, justify=justify, overflow=overflow, tab_size=tab_size, no_wrap=no_wrap)
        lines = Lines()
        for line in self.split(allow_blank=True):
            parts = line.divide(line_starts(line.plain, width))
            for part in parts:
                part.rstrip_end(width)
                part.truncate(width, overflow=overflow or "fold")
            lines.extend(parts)
        return lines

    def __rich_measure__(self, console, options) -> Measurement:
        widest = max((cell_len(line) for line in self.plain.splitlines()), default=0)
        narrowest = max((cell_len(unit) for unit in _units(self.plain)), default=0)
        return Measurement(min(narrowest, widest), widest)


class ChineseTable(Table):
    """A rich Table whose text cells and headers break as ChineseText does."""

    def add_column(self, header="", *args, **kwargs) -> None:
        super().add_column(ChineseText(header) if isinstance(header, str) else header, *args, **kwargs)

    def add_row(self, *cells, **kwargs) -> None:
        super().add_row(*(ChineseText(cell) if isinstance(cell, str) else cell for cell in cells), **kwargs)
        for column, cell in zip(self.columns, cells):  # rich narrows wrapping columns below their words
            if isinstance(cell, str) and _EMAIL.search(cell) and cell_len(cell) <= WIDEST_UNIT:
                column.no_wrap = True
