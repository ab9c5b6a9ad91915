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


def best_of(function, repeat: int = 3) -> tuple[float, object]:
    """The fastest of `repeat` runs (seconds) and the last run's result."""
    import time

    best, result = None, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best, result


def load_province(year: int, units: bool = False) -> int:
    """The demo province's districts, streets and communities (and its task-taking units if asked)
    through the app's loader, and the year's cycle; returns the cycle id."""
    from lianchuang.models.db import session_scope
    from lianchuang.tasks.cycle import ensure_cycle
    from lianchuang.tasks.demo.data import SCALES, generate_org
    from lianchuang.tasks.org import OrgData, load_org

    org = generate_org(SCALES["province"])
    with session_scope() as session:
        load_org(session, OrgData(org.districts, org.streets, org.communities, units=org.units if units else []))
        return ensure_cycle(session, year).id
