"""`lianchuang server`: the data folder's own Prefect server (started by the first command that runs
a flow, reused by the next), and a server in the foreground for a machine that serves others."""

import os
import subprocess
import sys
from typing import Annotated

import typer

from lianchuang.commands.common import console
from lianchuang.errors import UserError

server_app = typer.Typer(help="Prefect 服务器和界面：查看、启动、审核各阶段的运行。", invoke_without_command=True)

GROUPS = [(server_app, "server")]
COMMANDS = {}

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@server_app.callback()
def in_foreground(context: typer.Context,
                  port: Annotated[int, typer.Option(help="端口")] = 4200,
                  host: Annotated[str, typer.Option(help="监听地址；不是本机地址时必须设置 PREFECT_SERVER_API_AUTH_STRING")] = "127.0.0.1") -> None:
    """不带子命令：在前台启动 Prefect 服务器和界面（供其他机器使用时用 --host），按 Ctrl+C 停止。
    本机使用时不必手动启动：第一个需要它的命令会在后台启动，之后的命令共用（lianchuang server status|stop）。"""
    if context.invoked_subcommand:
        return
    import socket

    from lianchuang.flows.local_server import recorded

    running = recorded()
    if running:
        raise UserError(f"这个数据文件夹的 Prefect 服务器已在后台运行：{running.ui}。要在前台运行，先 lianchuang server stop")
    auth = os.environ.get("PREFECT_SERVER_API_AUTH_STRING", "")
    if host not in LOOPBACK and not auth:
        raise UserError(f"监听 {host} 会让其他机器访问 Prefect 界面和接口：请先设置 PREFECT_SERVER_API_AUTH_STRING=用户名:密码，"
                        f"再运行 lianchuang server --host {host}")
    shown = socket.gethostname() if host in ("0.0.0.0", "::") else host
    api_url = f"http://{shown}:{port}/api"
    env = os.environ | {"PREFECT_SERVER_API_HOST": host, "PREFECT_SERVER_API_PORT": str(port), "PREFECT_UI_API_URL": api_url}
    console.print(f"Prefect 界面：http://{shown}:{port}（数据：{os.environ['PREFECT_HOME']}）")
    console.print(f"在其他窗口或机器上使用这个服务器：PREFECT_API_URL={api_url}"
                  + ("，并设置 PREFECT_API_AUTH_STRING 为同一个用户名:密码" if auth else ""))
    raise typer.Exit(subprocess.call([sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)], env=env))


@server_app.command("start")
def start() -> None:
    """在后台启动这个数据文件夹的 Prefect 服务器（已在运行则沿用）。"""
    from lianchuang.flows.local_server import ensure_running

    with console.status("启动 Prefect 服务器……"):
        server = ensure_running()
    console.print(f"Prefect 服务器在运行：界面 {server.ui}，进程 {server.pid}。停止：lianchuang server stop")


@server_app.command("status")
def status() -> None:
    """这个数据文件夹的 Prefect 服务器是否在运行、地址和进程。"""
    from lianchuang.flows.local_server import healthy, recorded

    server = recorded()
    if os.environ.get("PREFECT_API_URL"):
        console.print(f"命令使用 PREFECT_API_URL 指定的服务器：{os.environ['PREFECT_API_URL']}")
    if server is None:
        console.print("本机服务器没有运行。下一个需要它的命令会在后台启动它（或：lianchuang server start）。")
        return
    state = "正常" if healthy(server.url) else "正在启动或没有响应"
    console.print(f"本机服务器{state}：界面 {server.ui}，进程 {server.pid}。停止：lianchuang server stop")


@server_app.command("stop")
def stop() -> None:
    """停止这个数据文件夹的 Prefect 服务器（运行记录保留，下次启动后仍可查看）。"""
    from lianchuang.flows.local_server import stop as stop_server

    server = stop_server()
    console.print(f"已停止本机服务器（进程 {server.pid}）。" if server else "本机服务器没有在运行。")
