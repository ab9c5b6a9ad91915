"""What the command-line tests share: a real Prefect server for a module's commands (each command
would otherwise start a temporary one, 5-25 s), in its own process group, ended with its group."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """The API URL of a Prefect server on a free loopback port, with its own data folder."""
    port = free_port()
    home = tmp_path_factory.mktemp("prefect-home")
    env = os.environ | {"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
                        "PREFECT_LOGGING_LEVEL": "WARNING",
                        # the scheduler looks for deployments to schedule every 2 s instead of every minute
                        "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
                        "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api"}  # the UI (screenshots) talks to this server
    env.pop("PREFECT_API_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the Prefect server did not start") from None
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
