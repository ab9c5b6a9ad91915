"""Stage 3 as a coordinator does it: one function per command, each in one transaction, audited."""

from datetime import datetime
from pathlib import Path

from lianchuang import clock
from lianchuang.errors import UserError
from lianchuang.models import Community
from lianchuang.models.db import session_scope
from lianchuang.settings import get_settings
from lianchuang.tasks.board import build_board
from lianchuang.tasks.commitments.rules import commitment_table, sign_in_community
from lianchuang.tasks.cycle import audit, existing_cycle
from lianchuang.tasks.files import app_folder
from lianchuang.tasks.org import resolve_one


def community_commitments(year: int, community: str) -> tuple[str, list[dict]]:
    with session_scope() as session:
        place = resolve_one(session, Community, community)
        return place.name, commitment_table(session, existing_cycle(session, year).id, place.id)


def sign_commitments(year: int, community: str, holders: list[str] | None, by: str, at: datetime) -> tuple[str, int, int]:
    """Record who signed and when (the first signature is kept); returns (community code, signed, already signed)."""
    if at.date() > clock.today():
        raise UserError(f"签订日期 {at.date().isoformat()} 还没有到：只能记录已经签订的（今天是 {clock.today().isoformat()}）")
    with session_scope() as session:
        place = resolve_one(session, Community, community)
        signed, already = sign_in_community(session, existing_cycle(session, year).id, place.id, holders, by, at)
        audit(session, "sign", f"commitments:{place.code}", actor=by, signed=signed)
        return place.code, signed, already


def build_notice_board(year: int, out_dir: Path | None, force: bool = False) -> tuple[int, Path]:
    """The whole notice board of the year; returns (pages, folder). A folder the user names must be
    empty or a board written before, unless `force`."""
    out_dir = app_folder(out_dir, force) if out_dir else get_settings().board_dir / str(year)
    with session_scope() as session:
        return build_board(session, existing_cycle(session, year).id, year, out_dir), out_dir
