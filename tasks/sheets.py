"""Reading and writing the spreadsheets coordinators exchange (XLSX, and CSV in UTF-8 or GBK).

Columns are found by their Chinese header or an English alias, in any order. A reader never
stops at the first problem: it collects every one, by file, row and column, and the caller
refuses the whole file if there is any."""

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from lianchuang.errors import Problem, UserError
from lianchuang.settings import get_settings
from lianchuang.tasks.files import save_output, workbook_bytes

MAX_FILE_BYTES = 100 * 1024 * 1024
MAX_CELL_CHARS = 10_000  # a cell of a Text column: a suggestion, a goal, a note
MAX_COLUMNS = 100  # no template has half as many; a row of a million cells is not read
INSTRUCTIONS = "填写说明"  # the sheet of notes and samples; no import reads it


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the Chinese header written in templates
    aliases: tuple[str, ...] = ()
    required: bool = False
    limit: int = 0  # the most characters its database column holds (0: MAX_CELL_CHARS)
    multiline: bool = False  # free text (a suggestion, a goal, a reason); every other cell is one line
    name: bool = False  # a name of a place, unit or person: no path characters either

    def line_problem(self, text: str) -> str | None:
        """Why a cell's raw text does not belong in this column, or None."""
        if not self.multiline and (bad := _NOT_ON_ONE_LINE.search(text)):
            return f"含有换行、控制字符或不可见的方向/零宽字符（{_describe(bad.group())}），请只写一行可见文字"
        if self.name and (bad := re.search(r"[/\\]", text)):
            return f"名称里不能有“{bad.group()}”（名称会出现在文件和网页里），请改用其他字符，例如“·”"
        return None

    def matches(self, text: str) -> bool:
        text = (text or "").strip().lower()
        return text in {self.header.lower(), self.key.lower(), *(a.lower() for a in self.aliases)}


@dataclass
class Sheet:
    """The rows of one sheet: (row number as shown in Excel, {column key: text})."""

    file: str
    rows: list[tuple[int, dict[str, str]]]


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # NUL and the like: PostgreSQL refuses them in text
# In a one-line cell: line breaks, control characters, and the invisible ones that reorder or hide
# text (zero-width, direction marks and overrides, line/paragraph separators, BOM).
_NOT_ON_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def _describe(character: str) -> str:
    return {"\n": "换行", "\r": "回车", "\t": "制表符"}.get(character, f"U+{ord(character):04X}")


def _cell_text(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "date") and hasattr(value, "hour"):
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _CONTROL.sub("", str(value)).strip()


def _map_header(file: str, header: list[str], columns: list[Column], problems: list[Problem]) -> dict[int, str]:
    """Column index → key. Unknown, empty-in-the-middle (merged cells) and missing headers are problems."""
    mapping = {}
    last = max((i for i, text in enumerate(header) if text), default=-1)
    for index, text in enumerate(header[:last + 1]):
        column = next((c for c in columns if c.matches(text)), None)
        letter = _column_letter(index)
        if not text:
            problems.append(Problem(file, 1, letter, "表头为空（可能是合并单元格或空列），请每列一个表头"))
        elif column is None:
            problems.append(Problem(file, 1, letter, f"不认识的列“{text}”，可用的列：{'、'.join(c.header for c in columns)}"))
        elif column.key in mapping.values():
            problems.append(Problem(file, 1, letter, f"列“{text}”重复"))
        else:
            mapping[index] = column.key
    for column in columns:
        if column.required and column.key not in mapping.values():
            problems.append(Problem(file, 1, column.header, f"缺少必填列“{column.header}”（表头应在第1行）"))
    return mapping


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return f"{letters}列"


def _check_file(path: Path) -> None:
    if not path.exists():
        raise UserError(f"找不到文件：{path}")
    if path.stat().st_size == 0:
        raise UserError(f"{path.name}: 文件是空的")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise UserError(f"{path.name}: 文件超过 {MAX_FILE_BYTES // 1024 // 1024} MB，请拆分后分批导入")


def _open_book(path: Path):
    from openpyxl import load_workbook

    _check_archive(path)
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except Exception:  # zipfile.BadZipFile, InvalidFileException, KeyError...: not a workbook at all
        raise UserError(f"{path.name}: 不是有效的 Excel（.xlsx）文件，请用 Excel 或 WPS 另存为 .xlsx 或 CSV") from None


class SheetReader:
    """Rows of one sheet or CSV file, streamed: iterate as often as needed (a validating pass, then a
    writing pass), never holding the whole file in memory."""

    def __init__(self, path: Path, columns: list[Column], sheet: str | None = None):
        _check_file(path)
        self.path, self.columns, self.sheet = path, columns, sheet
        self.file = f"{path.name}/{sheet}" if sheet else path.name
        self.is_csv = path.suffix.lower() in (".csv", ".txt")
        if self.is_csv:
            self.encoding = _csv_encoding(path)
        self.problems: list[Problem] = []
        self.cell_problems: list[Problem] = []
        raw = self._raw_rows()
        header = next(raw, None)
        if header is None or not any(_cell_text(h) for h in header):
            raise UserError(f"{self.file}: 文件是空的或第1行没有表头，请使用模板填写（表头在第1行）")
        self.mapping = _map_header(self.file, [_cell_text(h) for h in header], columns, self.problems)

    def _raw_rows(self) -> Iterator[list]:
        if self.is_csv:
            with self.path.open(encoding=self.encoding, newline="") as handle:
                csv.field_size_limit(MAX_FILE_BYTES)  # a long cell is the checks' to refuse, not the reader's to crash on
                yield from csv.reader(handle)
            return
        book = _open_book(self.path)
        try:
            if self.sheet and self.sheet not in book.sheetnames:
                raise UserError(f"{self.path.name}: 没有名为“{self.sheet}”的工作表（现有：{'、'.join(book.sheetnames)}）。"
                                f"请用模板填写，不要改工作表的名字")
            sheet = book[self.sheet] if self.sheet else next((s for s in book.worksheets if s.sheet_state == "visible"),
                                                             book.worksheets[0])
            if sheet.sheet_state != "visible":  # stale rows someone hid are never read silently
                raise UserError(f"{self.path.name}: 工作表“{sheet.title}”是隐藏的。请在 Excel 或 WPS 中取消隐藏并核对，"
                                f"或删除它，再导入")
            try:
                yield from sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
            except (IndexError, KeyError, ValueError, TypeError):  # e.g. a cell naming a shared string that is not there
                raise UserError(f"{self.path.name}: 文件内容已损坏，读不出工作表“{sheet.title}”的单元格。"
                                f"请用 Excel 或 WPS 打开后另存为 .xlsx（或 CSV）再导入") from None
        finally:
            book.close()

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        """(row number, {key: text}) for every row with something in it. A cell longer than its
        column holds is listed in cell_problems (reset on each pass), for the importer to refuse."""
        raw = self._raw_rows()
        next(raw, None)
        self.cell_problems = []
        limits = {c.key: (c.limit or MAX_CELL_CHARS, c.header) for c in self.columns}
        self.by_key = {c.key: c for c in self.columns}
        most = get_settings().import_max_rows + 1
        for number, cells in enumerate(raw, start=2):
            if number > most:
                raise UserError(f"{self.file}: 超过 {most - 1:,} 行，请拆分后分批导入（或调整 LIANCHUANG_IMPORT_MAX_ROWS）")
            values = {key: _cell_text(cells[i]) if i < len(cells) else "" for i, key in self.mapping.items()}
            for i, key in self.mapping.items():
                if i < len(cells) and isinstance(cells[i], str) and (reason := self.by_key[key].line_problem(cells[i].strip())):
                    self.cell_problems.append(Problem(self.file, number, self.by_key[key].header, reason))
            for key, text in values.items():
                if len(text) > limits[key][0] and len(self.cell_problems) < 1000:
                    self.cell_problems.append(Problem(self.file, number, limits[key][1],
                                                      f"内容有 {len(text):,} 个字，超过这一列最多的 {limits[key][0]:,} 个字"))
            if any(values.values()):
                yield number, values


def typed_cell_problems(file: str, number: int, row: dict[str, str], columns: list[Column]) -> list[Problem]:
    """The cells of a row typed on the command line that a sheet would refuse: too long for their
    column, or a line break or invisible character in a one-line field (a name, a contact)."""
    problems = [Problem(file, number, c.header, f"内容有 {len(row[c.key]):,} 个字，超过最多的 {c.limit or MAX_CELL_CHARS:,} 个字")
                for c in columns if len(row.get(c.key) or "") > (c.limit or MAX_CELL_CHARS)]
    return problems + [Problem(file, number, c.header, reason) for c in columns
                       if (reason := c.line_problem((row.get(c.key) or "").strip()))]


def _check_archive(path: Path) -> None:
    """An XLSX is a zip archive: refuse one that unpacks to more than the import_max_unpacked_mb
    setting, by the sizes it declares and then by the bytes it really unpacks to (a declared size
    can lie), before any XML parser sees it: a 4 MB file unpacking to 1 GB is refused in seconds."""
    import zipfile

    from lianchuang.settings import get_settings

    limit = get_settings().import_max_unpacked_mb * 1024 * 1024
    refused = UserError(f"{path.name}: 解压后超过 {limit // 1024 // 1024} MB，不像是正常的表格（可能是“压缩炸弹”），"
                        f"请拆分后分批导入，或调整 LIANCHUANG_IMPORT_MAX_UNPACKED_MB")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if sum(member.file_size for member in members) > limit:
                raise refused
            unpacked = 0
            for member in members:
                with archive.open(member) as stream:
                    while block := stream.read(1 << 20):
                        unpacked += len(block)
                        if unpacked > limit:
                            raise refused
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError):
        raise UserError(f"{path.name}: 不是有效的 Excel（.xlsx）文件，请用 Excel 或 WPS 另存为 .xlsx 或 CSV") from None


def _csv_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM); else what charset-normalizer finds between GB18030 (GBK, as
    Chinese Excel and WPS save CSV) and Big5 (traditional characters, from Hong Kong or Taiwan
    software), read off the first megabyte and then checked on the whole file. Anything else is
    refused rather than imported as mojibake."""
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    if b"\x00" in head[:4]:
        raise UserError(f"{path.name}: 不是文本格式的 CSV 文件（可能是 UTF-16 或二进制文件），请另存为 CSV UTF-8 或 .xlsx")
    if _decodes_whole(path, "utf-8-sig"):
        return "utf-8-sig"
    from charset_normalizer import from_bytes

    sample = head[:head.rfind(b"\n") + 1] or head  # whole lines: a character cut at the end is not a fault
    best = from_bytes(sample, cp_isolation=["gb18030", "big5"]).best()
    if best is not None and _decodes_whole(path, best.encoding):
        return best.encoding
    raise UserError(f"{path.name}: 无法识别文件编码（不是 UTF-8、GBK 或 Big5），请另存为 CSV UTF-8 或 GBK，或 .xlsx")


def _decodes_whole(path: Path, encoding: str) -> bool:
    try:
        with path.open(encoding=encoding) as handle:
            while handle.read(1 << 20):
                pass
        return True
    except UnicodeDecodeError:
        return False


def read_workbook(path: Path, sheets: dict[str, list[Column]], problems: list[Problem]) -> dict[str, Sheet]:
    """Read the named sheets of an XLSX workbook into memory (for small files such as the
    organisation); a missing sheet is a problem."""
    _check_file(path)
    book = _open_book(path)
    names = book.sheetnames
    book.close()
    result = {}
    for name, columns in sheets.items():
        if name not in names:
            problems.append(Problem(path.name, 0, "", f"缺少工作表“{name}”"))
            continue
        reader = SheetReader(path, columns, sheet=name)
        problems.extend(reader.problems)
        result[name] = Sheet(reader.file, list(reader))
        problems.extend(reader.cell_problems)
    return result


def _options_range(book, column: Column, options: list[str]) -> str:
    """Put a drop-down's options in a column of the hidden 选项 sheet (an inline list is limited to
    255 characters, too short for a district's communities); returns the range formula."""
    sheet = book["选项"] if "选项" in book.sheetnames else book.create_sheet("选项")
    sheet.sheet_state = "hidden"
    index = sheet.max_column + 1 if sheet.max_row > 1 or sheet.cell(1, 1).value else 1
    sheet.cell(1, index, column.header)
    for row, option in enumerate(options, start=2):
        sheet.cell(row, index, option)
    letter = sheet.cell(1, index).column_letter
    return f"'选项'!${letter}$2:${letter}${len(options) + 1}"


def write_template(path: Path, sheets: dict[str, list[Column]], choices: dict[str, list[str]],
                   examples: dict[str, list[list[str]]] | None = None, notes: list[str] | None = None,
                   samples: dict[str, list[list[str]]] | None = None) -> None:
    """An XLSX to fill in: Chinese headers, drop-down lists for columns with fixed choices.
    `examples` are rows to complete (a task per row, say) and are read back on import; `samples`
    show how rows are filled and live only on the instructions sheet, which no import reads, so
    an example never becomes data."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    book.remove(book.active)
    if notes or samples:
        sheet = book.create_sheet(INSTRUCTIONS)
        for note in notes or []:
            sheet.append([note])
        for name, rows in (samples or {}).items():
            sheet.append([])
            sheet.append([f"“{name}”表的填写示例（仅供参考，导入时不读取本页）："])
            sheet.append([c.header for c in sheets[name]])
            for row in rows:
                sheet.append(row)
        sheet.column_dimensions["A"].width = 60
    for name, columns in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append([c.header for c in columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="FBEAEA")
        for row in (examples or {}).get(name, []):
            _append_as_text(sheet, row)
        for index, column in enumerate(columns, start=1):
            letter = sheet.cell(1, index).column_letter
            sheet.column_dimensions[letter].width = max(12, len(column.header) * 3)
            if column.key in choices:
                validation = DataValidation(type="list", formula1=_options_range(book, column, choices[column.key]),
                                            allow_blank=not column.required, showErrorMessage=True,
                                            error="请从下拉列表中选择")
                sheet.add_data_validation(validation)
                validation.add(f"{letter}2:{letter}20000")
        sheet.freeze_panes = "A2"
    save_output(path, workbook_bytes(book))


def _append_as_text(sheet, row: list) -> None:
    """A row whose text cells stay text: openpyxl would write "=HYPERLINK(...)" typed by a resident
    as a live formula (CSV injection, OWASP), so such a cell is stored as a string."""
    sheet.append(row)
    for cell in sheet[sheet.max_row]:
        if cell.data_type == "f":
            cell.data_type = "s"


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")


def parse_date(text: str) -> date | None:
    match = _DATE.match(text.strip())
    if not match:
        return None
    try:
        return date(*map(int, match.groups()))
    except ValueError:
        return None
