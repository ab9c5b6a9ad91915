"""Every file the app writes goes through here, so nothing it writes destroys anything.

* A file is written to a temporary file beside it and renamed over the old one: a crash never
  leaves half a file, and a link standing at the path is replaced, never followed.
* A file a user names (`-o`) never replaces the database or the data folder's internal parts, and
  never replaces a file the app did not write itself (a filled-in sheet, a document) unless the
  user says `--force`. "Written by the app" means: its content is still what the app wrote, as
  recorded in the data folder's `written-files.json` (path → SHA-256).
* The app's own folders (board, documents, print pages) are the app's to replace, but a page is
  never written through a link or outside its folder."""

import hashlib
import json
import os
import tempfile
import threading
from io import BytesIO
from pathlib import Path

from lianchuang.errors import UserError
from lianchuang.settings import get_settings

BOARD_MARK = ".lianchuang-board"  # in a board folder the user chose: the app's pages may be replaced there


def _manifest() -> Path:
    return get_settings().data_dir / "written-files.json"


def _database_files() -> list[Path]:
    url = get_settings().db_url
    if not url.startswith("sqlite:///"):
        return []
    database = Path(url.removeprefix("sqlite:///").split("?")[0]).resolve()
    return [database, *(database.with_name(database.name + suffix) for suffix in ("-wal", "-shm", "-journal"))]


def _internal_parts() -> list[Path]:
    """Folders whose files only the app and Prefect write: the Prefect server's home, the delivered mail."""
    settings = get_settings()
    return [(settings.data_dir / "prefect").resolve(), settings.maildir.resolve()]


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _recorded() -> dict[str, str]:
    try:
        return json.loads(_manifest().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def written_by_us(path: Path) -> bool:
    """The file at `path` is one the app wrote and nobody changed since."""
    if path.is_symlink() or not path.is_file():
        return False
    recorded = _recorded().get(str(path.resolve()))
    return recorded is not None and recorded == _digest(path.read_bytes())


def check_output(path: Path, force: bool = False) -> Path:
    """Refuse a path a user named for a file when writing it could destroy something (see above)."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        raise UserError(f"“{path}”是一个文件夹，不能写成文件：请在后面加上文件名，例如 {path / ('文件' + (path.suffix or '.xlsx'))}")
    target = path.resolve()
    if target in _database_files() or target == _manifest().resolve() or any(_inside(target, part) for part in _internal_parts()):
        raise UserError(f"不能写入“{path}”：这是联创的数据库或数据目录的内部文件，覆盖它会毁掉数据。请换一个文件名")
    if os.path.lexists(path) and not force and not written_by_us(path):
        raise UserError(f"“{path}”已存在，且不是联创生成后未改动的文件（可能是填好的表）：为免覆盖，未写入。"
                        f"请换一个文件名；确认可以覆盖时加 --force")
    return path


def replace_file(path: Path, data: bytes | str, public: bool = False) -> Path:
    """Write `data` to `path` through a temporary file and a rename (never half a file, never through
    a link). Readable by its owner only, unless `public` (the board: a web server may serve it)."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = _temporary_beside(path)
    try:
        if public and hasattr(os, "fchmod"):
            os.fchmod(handle, 0o644)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _temporary_beside(path: Path) -> tuple[int, str]:
    """A new file beside `path`, named for this process and thread (a board writes 5,000 pages:
    mkstemp's random names cost a third of the writing); mkstemp where that name is taken."""
    temporary = str(path.parent / f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        return os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600), temporary
    except FileExistsError:  # left by a crash: never reused, never followed
        return tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")


def write_output(path: Path, data: bytes | str, force: bool = False) -> Path:
    """A file a user named (`-o`): checked, written safely and recorded as the app's."""
    return save_output(check_output(path, force), data)


def save_output(path: Path, data: bytes | str) -> Path:
    """Write a user-named file that its service has checked first (check_output, before any other work)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    replace_file(path, data)
    _record(path, data)
    return path


def workbook_bytes(book) -> bytes:
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _record(path: Path, data: bytes) -> None:
    recorded = _recorded()
    recorded[str(path.resolve())] = _digest(data)
    get_settings().data_dir.mkdir(parents=True, exist_ok=True)
    replace_file(_manifest(), json.dumps(recorded, ensure_ascii=False, indent=0))


def app_folder(folder: Path, force: bool = False) -> Path:
    """A folder the app fills with its pages (the board): refused when it is a file, a link, or a
    folder of other files the user did not hand over (`--force`); marked as the app's once taken."""
    folder = Path(folder)
    if folder.is_symlink():
        raise UserError(f"“{folder}”是一个链接，不是文件夹：为免写到别处，未写入。请给出一个真实的文件夹")
    if folder.exists() and not folder.is_dir():
        raise UserError(f"“{folder}”是一个文件，不是文件夹：请给出一个文件夹（不存在时会新建）")
    target = folder.resolve()
    if any(_inside(target, part) or _inside(part, target) for part in [*_internal_parts(), *_database_files()[:1]]):
        raise UserError(f"不能把公开栏写入“{folder}”：那里有联创的数据库或内部文件。请另选一个文件夹")
    marked = (folder / BOARD_MARK).exists()
    if folder.exists() and not marked and not force and any(folder.iterdir()):
        raise UserError(f"文件夹“{folder}”里已有其他文件，且不是联创生成的公开栏：为免覆盖，未写入。"
                        f"请换一个空文件夹；确认可以写入时加 --force")
    folder.mkdir(parents=True, exist_ok=True)
    if not marked:
        replace_file(folder / BOARD_MARK, "联创公开栏：本文件夹的页面由 lianchuang board build 生成\n")
    return folder


def page_in(folder: Path, *parts: str) -> Path:
    """A file inside `folder` at `parts`; a part like "../x" or a linked sub-folder can never lead elsewhere."""
    root = folder.resolve()
    path = folder.joinpath(*parts)
    parent = path.parent
    if parent.is_symlink() or not _inside(parent.resolve(), root) or (os.path.lexists(parent) and not parent.is_dir()):
        raise UserError(f"“{parent}”不是{folder}里的普通文件夹（是链接或文件）：为免写到别处，未写入。请删除它后重试")
    return path
