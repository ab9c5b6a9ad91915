"""The data folder's own Prefect server, shared by every command run there.

Without PREFECT_API_URL, Prefect would start a temporary server inside each command (5-25 s), and a
command killed with kill -9 would leave that server running for good. Instead the first command that
runs a flow starts one server in the background, in a session of its own, with its data in the data
folder (PREFECT_HOME); later commands find it through `server.json` and reuse it. Its UI then shows
every run. `lianchuang server status|stop` look at it and end it."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from lianchuang.errors import UserError

PREFERRED_PORT = 4200  # the address the README and the demo give, when no other server holds it
_started: dict[int, subprocess.Popen] = {}  # the servers this process started, by pid


@dataclass
class LocalServer:
    pid: int
    port: int

    @property
    def started_now(self) -> bool:
        """Started by this command (which then says so)."""
        return self.pid in _started

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def ui(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _home() -> Path:
    """Prefect's data: in the data folder (settings.configure_prefect_environment) unless set apart."""
    from lianchuang.settings import get_settings

    return Path(os.environ.get("PREFECT_HOME") or get_settings().data_dir / "prefect")


def _record() -> Path:
    return _home() / "server.json"


def _log() -> Path:
    return _home() / "server.log"


def _alive(pid: int) -> bool:
    """Whether `pid` is still a Prefect server (not a finished one, nor another program that got its
    number since)."""
    if pid in _started:  # started here: until it execs, /proc shows this program's command
        return _started[pid].poll() is None
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:  # a server this very process started, now ended
            return False
    except ChildProcessError:
        pass
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"prefect" in command and b"server" in command


def healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def serves_this_folder(url: str, timeout: float = 2.0) -> bool:
    """Whether the server answering at `url` keeps its data in this data folder: it serves its
    settings back (PREFECT_HOME among them). Two folders whose servers raced for one port both
    answered the health check from the winner, and the loser's runs went into the other folder."""
    import base64

    request = urllib.request.Request(url.rstrip("/") + "/admin/settings")
    auth = os.environ.get("PREFECT_API_AUTH_STRING") or os.environ.get("PREFECT_SERVER_API_AUTH_STRING")
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            home = json.loads(response.read()).get("home")
    except (OSError, ValueError, AttributeError):
        return False
    return bool(home) and Path(home).resolve() == _home().resolve()


def recorded() -> LocalServer | None:
    """The server this data folder started, if its process still runs."""
    try:
        server = LocalServer(**json.loads(_record().read_text()))
    except (OSError, ValueError, TypeError):
        return None
    return server if _alive(server.pid) else None


def _free_port(preferred: int | None = PREFERRED_PORT) -> int:
    """The preferred port if it is free, else any free one."""
    for port in (preferred, 0) if preferred else (0,):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise UserError("本机没有可用的端口来启动 Prefect 服务器")


@contextmanager
def _locked():
    """One command at a time decides whether to start the server: two commands started together
    share one server instead of starting two on the same database."""
    import fcntl

    _home().mkdir(parents=True, exist_ok=True)
    with open(_home() / "server.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


TEMPLATE = Path(__file__).with_name("prefect-empty.db.gz")  # an empty Prefect database, migrated, its block types registered
TEMPLATE_VERSION = TEMPLATE.with_name("prefect-empty.version")  # the Prefect that wrote it


def _own_database() -> bool:
    """Whether Prefect keeps its data in PREFECT_HOME's SQLite file (not a database set apart)."""
    return not (os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL") or os.environ.get("PREFECT_SERVER_DATABASE_CONNECTION_URL"))


def _seed_database() -> bool:
    """A new data folder's Prefect database starts as a copy of an empty, migrated one: Prefect's
    ~110 migrations took 7 s of the first command's 19.5 s. Used only if the installed Prefect knows
    its revision (the server then applies any newer migrations itself). Returns whether the copy
    was written by this very Prefect, block types and all: its first start need not register them."""
    import gzip
    import sqlite3
    from importlib.metadata import version

    target = _home() / "prefect.db"
    if target.exists() or not _own_database() or not TEMPLATE.exists():
        return False
    seed = target.with_name("prefect.db.seed")
    seed.write_bytes(gzip.decompress(TEMPLATE.read_bytes()))
    with sqlite3.connect(seed) as connection:
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    connection.close()
    if not _known_revision(revision):
        seed.unlink()
        return False
    seed.replace(target)
    return TEMPLATE_VERSION.exists() and TEMPLATE_VERSION.read_text().strip() == version("prefect")


def _known_revision(revision: str) -> bool:
    from importlib.util import find_spec

    # found, not imported: importing prefect.server.database takes 2.7 s, before the server could start
    versions = Path(find_spec("prefect").submodule_search_locations[0]) / "server" / "database" / "_migrations" / "versions" / "sqlite"
    return any(f"_{revision}_" in path.name for path in versions.glob("*.py"))


def make_template() -> Path:
    """Write TEMPLATE from the installed Prefect (after upgrading Prefect: python -m lianchuang.flows.local_server)."""
    import gzip
    import tempfile
    from importlib.metadata import version

    with tempfile.TemporaryDirectory() as home:
        subprocess.run([sys.executable, "-c", SEED_SCRIPT], env=os.environ | {"PREFECT_HOME": home}, check=True)
        TEMPLATE.write_bytes(gzip.compress((Path(home) / "prefect.db").read_bytes(), mtime=0))
    TEMPLATE_VERSION.write_text(version("prefect") + "\n")
    return TEMPLATE


# The server's own first steps, as its start takes them: the migrations, then the block types of
# everything its app imports (2 s of a first start, which a seed written by this Prefect skips).
SEED_SCRIPT = """
import asyncio
import prefect.plugins
from prefect.server.api.server import create_app
from prefect.server.database import provide_database_interface
from prefect.server.models.block_registration import run_block_auto_registration

async def seed():
    db = provide_database_interface()
    await db.create_db()
    prefect.plugins.load_prefect_collections()
    async with await db.session() as session:
        await run_block_auto_registration(session=session)

asyncio.run(seed())
"""


def _start(port: int) -> LocalServer:
    registered = _seed_database()
    env = os.environ | {"PREFECT_SERVER_API_HOST": "127.0.0.1", "PREFECT_SERVER_API_PORT": str(port),
                        "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api"}
    if registered:  # a later start registers them as usual (once: Prefect remembers it in the folder)
        env["PREFECT_API_BLOCKS_REGISTER_ON_START"] = "false"
    env.pop("PREFECT_API_URL", None)
    with open(_log(), "ab") as log:
        # A session of its own: the server outlives the command that started it (on purpose: the next
        # command reuses it), and neither Ctrl+C nor a kill of that command reaches it.
        process = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                   env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    server = LocalServer(pid=process.pid, port=port)
    _record().write_text(json.dumps(asdict(server)))
    _started[process.pid] = process
    return server


def _startup_wait() -> float:
    return float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180"))


def _came_up(server: LocalServer) -> bool:
    """Wait until the server answers as this data folder's; False if its process ended first (its
    port taken meanwhile, perhaps by another folder's server, which answers there but is not ours)."""
    deadline = time.monotonic() + _startup_wait()
    while not (healthy(server.url, timeout=1) and serves_this_folder(server.url)):
        if not _alive(server.pid):
            return False
        if time.monotonic() > deadline:
            stop()
            raise _too_slow()
        time.sleep(0.2)
    return True


def _too_slow(what: str = "") -> UserError:
    tail = _log().read_text(errors="replace").strip().splitlines()[-1:] if _log().exists() else []
    what = what or f"没有在 {_startup_wait():.0f} 秒内启动（机器较慢或磁盘繁忙时会这样）"
    return UserError(f"Prefect 服务器{what}。请再运行一次；日志：{_log()}" + (f"（最后一行：{tail[0]}）" if tail else ""))


def start_early() -> None:
    """Start the data folder's server without waiting for it (unless another server is named or
    this one runs): the command does its own work meanwhile, and connected() waits."""
    if _server_named():
        return
    with _locked():
        if recorded() is None:
            _start(_free_port())


def _server_named() -> bool:
    """Whether Prefect's settings name a server (PREFECT_API_URL). Read without importing Prefect
    (1.6 s, which the first command's server start waited for) where no file could set it."""
    if os.environ.get("PREFECT_API_URL"):
        return True
    profiles = Path(os.environ.get("PREFECT_PROFILES_PATH") or _home() / "profiles.toml")
    pyproject = Path("pyproject.toml")
    if not (profiles.exists() or Path(".env").exists() or Path("prefect.toml").exists()
            or (pyproject.exists() and "tool.prefect" in pyproject.read_text(errors="replace"))):
        return False
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value())


def starting() -> bool:
    """Whether connected() will wait for the data folder's server to come up."""
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return False
    server = recorded()
    return server is None or not healthy(server.url, timeout=0.5)


def ensure_running() -> LocalServer:
    """The data folder's server, started in the background if it is not running yet. Commands
    started together wait for one start (a file lock); a port taken between the probe and the
    server's bind is tried again on another."""
    with _locked():
        server = recorded()
        if server is not None:
            if not _came_up(server):
                raise _too_slow("启动后退出了")
            return server
        for preferred in (PREFERRED_PORT, None):
            server = _start(_free_port(preferred))
            if _came_up(server):
                return server
        _record().unlink(missing_ok=True)
        raise _too_slow("启动后退出了")


def stop() -> LocalServer | None:
    """End the data folder's server and everything it started (its process group)."""
    server = recorded()
    if server is not None:
        try:
            os.killpg(server.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 20
        while _alive(server.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(server.pid):
            try:
                os.killpg(server.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    _record().unlink(missing_ok=True)
    return server


@contextmanager
def connected():
    """Prefect pointed at a server for the flows run inside: PREFECT_API_URL (or a test harness)
    when set, else the data folder's own server (yielded; None for the others). Flow-run heartbeats
    are off: a command's run is short, and the heartbeat thread holds it up to a second at its end."""
    from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    updates, server = {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}, None
    if not PREFECT_API_URL.value():
        server = ensure_running()
        updates[PREFECT_API_URL] = server.url
    with temporary_settings(updates=updates):
        try:
            yield server
        finally:
            send_pending_events_and_logs()


def send_pending_events_and_logs() -> None:
    """Hand the runs' last events and log lines to the server now, while the settings that name it
    hold (Prefect would otherwise do it at the interpreter's exit)."""
    import logging

    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    counting = logging.getLogger("EventsWorker")  # "Still processing items: …" while it sends: not news for a coordinator
    level = counting.level
    counting.setLevel(logging.ERROR)
    try:
        EventsWorker.drain_all()
        APILogWorker.drain_all()
    finally:
        counting.setLevel(level)


def console_address() -> str:
    """Where the Prefect UI of this command's runs is."""
    url = os.environ.get("PREFECT_API_URL", "")
    if url:
        return url.removesuffix("/").removesuffix("/api")
    server = recorded()
    return server.ui if server else "（本机服务器没有运行：lianchuang server start）"


if __name__ == "__main__":
    print(f"wrote {make_template()}")
