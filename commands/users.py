"""`lianchuang users`: database logins per level of the tree, whose writes PostgreSQL keeps to their
scope (tasks/access.py)."""

from typing import Annotated, Optional

import typer

from lianchuang.commands.common import JsonOption, console, fitted_table, use
from lianchuang.errors import UserError

users_app = typer.Typer(help="分级用户：每位联络人一个数据库用户，只能修改自己负责的范围（需要 PostgreSQL）。", no_args_is_help=True)
GROUPS = [(users_app, "users")]
COMMANDS = {}


def _add(name, role, place, login):
    from lianchuang.models.db import engine, session_scope
    from lianchuang.tasks.access import add_user

    with session_scope() as session:
        user, password = add_user(session, name, role, place, login)
        url = engine().url.set(drivername="postgresql", username=user.login, password=password).render_as_string(hide_password=False)
        return user, url


@users_app.command("add")
def users_add(name: Annotated[str, typer.Argument(help="姓名（组织架构里的人员；不在其中时用 --login 给用户名）")],
              role: Annotated[str, typer.Option("--role", help="区级联络人、街道联络人、社区联络人或单位联络员")],
              place: Annotated[Optional[str], typer.Option(
                  "--scope", "--district", "--street", "--community", "--unit",
                  help="负责的区、街道、社区或单位（编码或名称）；不填：这个人在组织架构里所属的")] = None,
              login: Annotated[Optional[str], typer.Option("--login", help="数据库用户名（默认 lc_ 加人员编码）")] = None) -> None:
    """添加一位用户：建立其本人的数据库登录，只能修改所负责范围的数据（数据库强制执行）。"""
    from lianchuang.models.enums import UserRole

    parsed = UserRole.parse(role)
    if parsed is None:
        raise UserError(f"角色只能是 {'、'.join(r.label for r in UserRole)}，不是“{role}”")
    user, url = use(_add, name, parsed, place, login)
    console.print(f"已添加用户 {user.name}（{parsed.label}），数据库用户名 {user.login}。")
    console.print(f"请把这个连接地址交给{user.name}本人（只显示这一次，含密码），在本人的电脑上设置：\nLIANCHUANG_DATABASE_URL={url}")
    console.print("查看全部用户：lianchuang users list；收回：lianchuang users remove " + user.login)


@users_app.command("list")
def users_list(as_json: JsonOption = False) -> None:
    """列出各用户、角色和负责的范围。"""
    import json

    from lianchuang.models.db import session_scope
    from lianchuang.tasks.access import list_users

    def listed():
        with session_scope() as session:
            return list_users(session)

    rows = use(listed)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        console.print("还没有用户：所有人使用管理员的数据库连接（单用户）。添加：lianchuang users add 姓名 --role 社区联络人")
        return
    table = fitted_table("数据库用户名", "姓名", "角色", "负责范围")
    for row in rows:
        table.add_row(row["login"], row["name"], row["role"], row["scope"])
    console.print(table)


@users_app.command("remove")
def users_remove(login: Annotated[str, typer.Argument(help="数据库用户名（users list 列出）")]) -> None:
    """收回一位用户的数据库登录（他做过的事仍记在审计记录里）。"""
    from lianchuang.models.db import session_scope
    from lianchuang.tasks.access import remove_user

    def removed():
        with session_scope() as session:
            return remove_user(session, login)

    user = use(removed)
    console.print(f"已收回 {user.name} 的数据库用户 {user.login}。")
