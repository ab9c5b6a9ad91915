"""What every benchmark does first: a temporary data folder, the database chosen on the command
line (SQLite in that folder by default), and a fresh schema. Note that on PostgreSQL the app's
tables in the given database are dropped before and after the run."""

import os
import tempfile
from pathlib import Path


def fresh_database(database_url: str | None) -> tuple[Path, str]:
    """Point the app at a new data folder and an empty, current schema; returns (folder, URL)."""
    work = Path(tempfile.mkdtemp(prefix="lianchuang-bench-"))
    os.environ["LIANCHUANG_DATA_DIR"] = str(work)
    if database_url:
        os.environ["LIANCHUANG_DATABASE_URL"] = database_url
    from lianchuang.models.db import drop_everything, upgrade_database
    from lianchuang.settings import get_settings, reset_settings

    reset_settings()
    url = get_settings().db_url
    drop_everything(url)
    upgrade_database(url)
    return work, url
