"""`lianchuang channels`: the WeCom, DingTalk and Feishu group bots of districts, streets and communities."""

from typing import Annotated, Optional

import typer

from lianchuang.commands.common import console, fitted_table, prefect_connected, use
from lianchuang.errors import UserError

channels_app = typer.Typer(help="群机器人：把月度排名和紧急通知发到企业微信、钉钉、飞书群（邮件仍是正式通知）。", no_args_is_help=True)

GROUPS = [(channels_app, "channels")]
COMMANDS = {}

Street = Annotated[Optional[str], typer.Option("--street", "-s", help="街道（编码或名称）")]
Community = Annotated[Optional[str], typer.Option("--community", "-c", help="社区（编码或名称）")]
District = Annotated[Optional[str], typer.Option("--district", "-d", help="区（编码或名称）")]
Platform = Annotated[str, typer.Option("--platform", "-p", help="wecom（企业微信）、dingtalk（钉钉）或 feishu（飞书）")]


def _where(district: str | None, street: str | None, community: str | None) -> tuple[str, str]:
    named = [(level, value) for level, value in (("district", district), ("street", street), ("community", community)) if value]
    if len(named) != 1:
        raise UserError("请用 --district、--street 或 --community 中的一个指定这个群属于哪里")
    return named[0]


def _platform(platform: str) -> str:
    from lianchuang.tasks.outbox.chats import PLATFORMS

    if platform not in PLATFORMS:
        raise UserError(f"平台只能是 {'、'.join(f'{k}（{v}）' for k, v in PLATFORMS.items())}，不是“{platform}”")
    return platform


@channels_app.command("add")
def channels_add(district: District = None, street: Street = None, community: Community = None,
                 wecom: Annotated[Optional[str], typer.Option("--wecom", help="企业微信群机器人 webhook 地址里的 key")] = None,
                 dingtalk: Annotated[Optional[str], typer.Option("--dingtalk", help="钉钉群机器人 webhook 地址里的 access_token")] = None,
                 feishu: Annotated[Optional[str], typer.Option("--feishu", help="飞书群机器人 webhook 地址最后一段（hook/ 之后）")] = None,
                 secret: Annotated[Optional[str], typer.Option("--secret", help="钉钉“加签”或飞书“签名校验”的密钥（SEC…）")] = None) -> None:
    """添加（或更换）一个群机器人。key 和密钥存进 Prefect 密钥块，不写进数据库，也不会显示出来。"""
    from lianchuang.tasks.outbox.channels import add_channel
    from lianchuang.tasks.outbox.chats import BotKey

    level, place = _where(district, street, community)
    given = [(name, token) for name, token in (("wecom", wecom), ("dingtalk", dingtalk), ("feishu", feishu)) if token]
    if len(given) != 1:
        raise UserError("请给出一个机器人：--wecom KEY、--dingtalk TOKEN [--secret SEC…] 或 --feishu TOKEN [--secret …]")
    platform, token = given[0]
    if platform == "wecom" and secret:
        raise UserError("企业微信群机器人没有签名密钥：去掉 --secret")
    with prefect_connected():
        added = use(add_channel, level, place, platform, BotKey(token.strip(), (secret or "").strip() or None))
    console.print(f"已{'更换' if added['replaced'] else '添加'}{added['place']}的{added['platform']}群机器人"
                  f"{'（加签）' if added['signed'] else ''}；key 保存在 Prefect 密钥块 {added['block']}。")
    console.print(f"下一步：lianchuang channels test --{level} {place} --platform {platform}（发一条测试消息）")


@channels_app.command("list")
def channels_list() -> None:
    """列出已设置的群机器人（不显示 key）。"""
    from lianchuang.tasks.outbox.channels import list_channels

    rows = use(list_channels)
    if not rows:
        console.print("还没有群机器人。添加：lianchuang channels add --street 街道 --wecom KEY")
        return
    table = fitted_table("范围", "名称", "平台", "最近发送（UTC）", "key 所在的密钥块")
    for row in rows:
        table.add_row(row["level"], row["place"], row["platform"], row["last_sent"] or "—", row["block"])
    console.print(table)


@channels_app.command("remove")
def channels_remove(platform: Platform, district: District = None, street: Street = None, community: Community = None) -> None:
    """删除一个群机器人、它待发的消息和保存的 key。"""
    from lianchuang.tasks.outbox.channels import remove_channel

    level, place = _where(district, street, community)
    with prefect_connected():
        name = use(remove_channel, level, place, _platform(platform))
    console.print(f"已删除{name}的群机器人和它的 key。")


@channels_app.command("test")
def channels_test(platform: Platform, district: District = None, street: Street = None, community: Community = None) -> None:
    """立即给群机器人发一条测试消息，检查 key 和签名是否正确。"""
    from lianchuang.tasks.outbox.channels import test_channel

    level, place = _where(district, street, community)
    with prefect_connected():
        name = use(test_channel, level, place, _platform(platform))
    console.print(f"测试消息已发到{name}的群，请在群里确认收到。")
