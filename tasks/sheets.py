"""Reading and writing the spreadsheets coordinators exchange (XLSX, and CSV in UTF-8 or GBK).

Columns are found by their Chinese header or an English alias, in any order. A reader never
stops at the first problem: it collects every one, by file, row and column, and the caller
refuses the whole file if there is any."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lianchuang.errors import Problem, UserError

MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # the Chinese header written in templates
    aliases: tuple[str, ...] = ()
    required: bool = False

    def matches(self, text: str) -> bool:
        text = (text or "").strip().lower()
        return text in {self.header.lower(), self.key.lower(), *(a.lower() for a in self.aliases)}


@dataclass
class Sheet:
    """The rows of one sheet: (row number as shown in Excel, {column key: text})."""

    file: str
    rows: list[tuple[int, dict[str, str]]]


def _cell_text(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "date") and hasattr(value, "hour"):
        return value.date().isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _map_header(file: str, header: list[str], columns: list[Column], problems: list[Problem]) -> dict[int, str]:
    mapping = {}
    for index, text in enumerate(header):
        column = next((c for c in columns if c.matches(text)), None)
        if column:
            mapping[index] = column.key
    for column in columns:
        if column.required and column.key not in mapping.values():
            problems.append(Problem(file, 1, column.header, f"缺少必填列“{column.header}”（表头应在第1行）"))
    return mapping


def _rows(file: str, raw_rows: Iterator[list], columns: list[Column], problems: list[Problem]) -> Sheet:
    header = next(raw_rows, None)
    if header is None or not any(_cell_text(h) for h in header):
        raise UserError(f"{file}: 文件是空的或第1行没有表头，请使用 `lianchuang ... template` 生成的模板填写")
    mapping = _map_header(file, [_cell_text(h) for h in header], columns, problems)
    rows = []
    for number, raw in enumerate(raw_rows, start=2):
        values = {key: _cell_text(raw[i]) if i < len(raw) else "" for i, key in mapping.items()}
        if any(values.values()):
            rows.append((number, values))
    return Sheet(file, rows)


def _check_file(path: Path) -> None:
    if not path.exists():
        raise UserError(f"找不到文件：{path}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise UserError(f"{path.name}: 文件超过 {MAX_FILE_BYTES // 1024 // 1024} MB，请拆分后分批导入")


def read_workbook(path: Path, sheets: dict[str, list[Column]], problems: list[Problem]) -> dict[str, Sheet]:
    """Read the named sheets of an XLSX workbook (a missing sheet is a problem)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    _check_file(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError) as error:
        raise UserError(f"{path.name}: 不是有效的 Excel（.xlsx）文件（{type(error).__name__}）") from None
    except Exception:  # zipfile.BadZipFile and friends: not a spreadsheet at all
        raise UserError(f"{path.name}: 不是有效的 Excel（.xlsx）文件，请用 Excel 或 WPS 另存为 .xlsx") from None
    result = {}
    for name, columns in sheets.items():
        if name not in book.sheetnames:
            problems.append(Problem(path.name, 0, "", f"缺少工作表“{name}”"))
            continue
        result[name] = _rows(f"{path.name}/{name}", book[name].iter_rows(values_only=True), columns, problems)
    book.close()
    return result


def decode_csv(data: bytes, file: str) -> str:
    """UTF-8 (with or without BOM) or GB18030, as Chinese Excel and WPS save CSV."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UserError(f"{file}: 无法识别文件编码（既不是 UTF-8 也不是 GBK），请另存为 UTF-8 CSV 或 .xlsx")


def read_csv(path: Path, columns: list[Column], problems: list[Problem]) -> Sheet:
    _check_file(path)
    text = decode_csv(path.read_bytes(), path.name)
    if "\x00" in text:
        raise UserError(f"{path.name}: 不是文本格式的 CSV 文件")
    return _rows(path.name, iter(csv.reader(io.StringIO(text))), columns, problems)


def write_template(path: Path, sheets: dict[str, list[Column]], choices: dict[str, list[str]],
                   examples: dict[str, list[list[str]]] | None = None, notes: list[str] | None = None) -> None:
    """An XLSX to fill in: Chinese headers, drop-down lists for columns with fixed choices."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    book.remove(book.active)
    if notes:
        sheet = book.create_sheet("填写说明")
        for note in notes:
            sheet.append([note])
        sheet.column_dimensions["A"].width = 100
    for name, columns in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append([c.header for c in columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="FBEAEA")
        for row in (examples or {}).get(name, []):
            sheet.append(row)
        for index, column in enumerate(columns, start=1):
            letter = sheet.cell(1, index).column_letter
            sheet.column_dimensions[letter].width = max(12, len(column.header) * 3)
            if column.key in choices:
                validation = DataValidation(type="list", formula1='"' + ",".join(choices[column.key]) + '"',
                                            allow_blank=not column.required, showErrorMessage=True,
                                            error="请从下拉列表中选择")
                sheet.add_data_validation(validation)
                validation.add(f"{letter}2:{letter}5000")
        sheet.freeze_panes = "A2"
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
