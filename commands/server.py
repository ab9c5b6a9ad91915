"""`lianchuang server`: the data folder's own Prefect server (started by the first command that runs
a flow, reused by the next), and a server in the foreground for a machine that serves others."""

import os
import sys
from typing import Annotated, Optional

import typer

from lianchuang.commands.common import console, use
from lianchuang.errors import UserError

server_app = typer.Typer(help="Prefect 服务器和界面：查看、启动、审核各阶段的运行。", invoke_without_command=True)

GROUPS = [(server_app, "server")]

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
    from lianchuang.flows.supervised import run_supervised

    # supervised: SIGTERM (systemctl stop) or Ctrl+C ends the server and its workers within 10 s
    raise typer.Exit(run_supervised([sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)], env))


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


def deploy(pool: Annotated[str, typer.Option("--pool", help="工作池名称，例如 fujian-province；没有则新建（进程型）")],
           district: Annotated[Optional[str], typer.Option(
               "--district", "-d", help="登记这个区自己的各阶段和定时任务（编码或名称）；各区分别登记，按各自的日程运行")] = None) -> None:
    """把各阶段和定时任务登记到 Prefect 工作池：多台机器上的工作节点（lianchuang worker）领取并运行。"""
    from lianchuang.flows.local_server import console_address
    from lianchuang.flows.schedules import deploy_to_pool, district_code

    code = use(district_code, district) if district else None
    with console.status(f"登记到工作池 {pool}……"):
        names = deploy_to_pool(pool, code)
    console.print(f"已登记 {len(names)} 个部署到工作池 {pool}：{'、'.join(names)}")
    console.print(f"下一步：在每台工作机器上运行 lianchuang worker --pool {pool}；在界面 {console_address()} 启动或审核运行")


def worker(pool: Annotated[str, typer.Option("--pool", help="要领取运行的工作池名称")],
           limit: Annotated[int, typer.Option(help="这台机器同时运行的最多数量")] = 2) -> None:
    """在这台机器上启动工作节点：领取工作池里的运行，按本机的设置（数据库、存储目录、SMTP）运行。按 Ctrl+C 停止。"""
    from lianchuang.flows.schedules import prefect_server_url, worker_environment
    from lianchuang.flows.supervised import run_supervised

    env = os.environ | worker_environment() | {"PREFECT_API_URL": prefect_server_url()}
    console.print(f"工作节点领取工作池 {pool} 的运行（服务器 {env['PREFECT_API_URL']}，存储 {env['LIANCHUANG_DATA_DIR']}）")
    code = run_supervised([sys.executable, "-m", "prefect", "worker", "start", "--pool", pool, "--type", "process",
                           "--limit", str(limit)], env)
    console.print("工作节点已停止。")
    raise typer.Exit(code)


COMMANDS = {"deploy": deploy, "worker": worker}
