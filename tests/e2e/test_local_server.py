"""The data folder's own Prefect server, as a coordinator meets it without PREFECT_API_URL: the
first flow command starts it in the background, the next ones reuse it, `lianchuang server stop`
ends it, and a command killed with kill -9 leaves nothing of its own running."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def environment(settings) -> dict:
    env = os.environ | {"LIANCHUANG_DATA_DIR": str(settings.data_dir), "LIANCHUANG_DATABASE_URL": settings.db_url,
                        "COLUMNS": "100"}
    for name in ("PREFECT_API_URL", "PREFECT_HOME"):
        env.pop(name, None)
    return env


def lianchuang(settings, *args) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "lianchuang.cli", *args], env=environment(settings), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def processes_of(data_dir: Path) -> dict[int, str]:
    """Every process started for this data folder (they inherit LIANCHUANG_DATA_DIR), by pid."""
    found = {}
    marker = f"LIANCHUANG_DATA_DIR={data_dir}".encode()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "environ").read_bytes().split(b"\0"):
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
    return found


def server_group(pid: int) -> set[int]:
    group = os.getpgid(pid)
    return {p for p in processes_of_any() if _group_of(p) == group}


def processes_of_any() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def test_the_first_command_starts_the_server_the_next_reuse_it_and_stop_ends_it(settings):
    import urllib.request

    from lianchuang.flows.local_server import LocalServer
    from lianchuang.tasks.cycle import current_actor

    started = lianchuang(settings, "outbox", "flush")
    record = settings.data_dir / "prefect" / "server.json"
    first = LocalServer(**json.loads(record.read_text()))
    status = lianchuang(settings, "server", "status").stdout
    assert "本机服务器正常" in status and first.ui in status
    assert f"已在后台启动这个数据文件夹的 Prefect 服务器，之后的命令共用它：界面 {first.ui}" in started.stderr
    assert "已在后台启动" not in lianchuang(settings, "outbox", "flush").stderr
    assert LocalServer(**json.loads(record.read_text())) == first  # reused, not started again
    runs = json.loads(urllib.request.urlopen(urllib.request.Request(
        f"{first.url}/flow_runs/filter", data=b"{}", headers={"Content-Type": "application/json"})).read())
    assert len(runs) == 2 and all(f"发起人:{current_actor()}" in run["tags"] for run in runs)  # who started them, in the UI
    assert "已停止本机服务器" in lianchuang(settings, "server", "stop").stdout
    assert not record.exists() and not processes_of(settings.data_dir)


def test_a_command_killed_with_sigkill_leaves_nothing_of_its_own_running(settings):
    env = environment(settings)
    demo = subprocess.Popen([sys.executable, "-m", "lianchuang.cli", "demo"], env=env, stdout=subprocess.PIPE,
                            stderr=open(settings.data_dir.parent / "demo.err", "w"), text=True, start_new_session=True)
    try:
        for line in demo.stdout:  # killed in the middle of its flows, once a stage has run on the server
            if line.startswith("[ 3/"):
                break
        os.kill(demo.pid, signal.SIGKILL)
        demo.wait(timeout=30)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
    server = json.loads((settings.data_dir / "prefect" / "server.json").read_text())
    deadline = time.monotonic() + 30  # worker processes notice their parent is gone
    while (left := set(processes_of(settings.data_dir)) - server_group(server["pid"])) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not left, processes_of(settings.data_dir)
    # the next command reuses the server and the demo goes on where it stopped
    again = lianchuang(settings, "demo")
    assert "[20/20]" in again.stdout and json.loads((settings.data_dir / "prefect" / "server.json").read_text()) == server
    lianchuang(settings, "server", "stop")
    assert not processes_of(settings.data_dir)


def test_two_data_folders_racing_for_one_port_each_get_their_own_server(tmp_path, monkeypatch):
    """Two folders started their servers on port 4200 at once: the loser's died, the winner's
    answered the loser's health check, and the loser's runs went into the other folder. Here the
    second folder is told the first's port is free (as both probes said in the race)."""
    from lianchuang.flows import local_server

    first_home, second_home = tmp_path / "一" / "prefect", tmp_path / "二" / "prefect"
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    try:
        monkeypatch.setenv("PREFECT_HOME", str(first_home))
        first = local_server.ensure_running()
        assert local_server.serves_this_folder(first.url)
        monkeypatch.setenv("PREFECT_HOME", str(second_home))
        assert not local_server.serves_this_folder(first.url)  # the first folder's server is not the second's
        taken = iter([first.port])
        monkeypatch.setattr(local_server, "_free_port", lambda preferred=None: next(taken, 0) or _any_free_port())
        second = local_server.ensure_running()
        assert second.port != first.port and local_server.serves_this_folder(second.url)
        assert local_server.recorded() == second
    finally:
        for home in (second_home, first_home):
            monkeypatch.setenv("PREFECT_HOME", str(home))
            local_server.stop()


def _any_free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
