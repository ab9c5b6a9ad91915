"""Render and deliver N monthly-ranking notices (the province scale: one per community) through the
app's outbox, to (a) the Maildir and (b) an SMTP server on loopback, and in the same run the same
number of messages rendered with bare Jinja and sent with the bare standard library. Prints both
rates and their ratio.

    python benchmarks/notices.py [--count 5000] [--database-url postgresql://postgres@127.0.0.1:5432/test]
"""

import argparse
import mailbox
import os
import smtplib
import sys
import time
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def ranking_context(number: int) -> dict:
    from lianchuang.tasks.demo.samples import SAMPLES

    return SAMPLES["ranking"] | {"community": f"社区{number}", "scope_name": f"社区{number}"}


def app_run(count: int, period: str) -> float:
    """Queue (render + insert) and deliver `count` notices through the app; returns seconds."""
    from lianchuang.models.db import session_scope
    from lianchuang.tasks.outbox import delivery, drafts as outbox

    drafts = [outbox.Draft(2026, "progress", "ranking", f"P{n}", f"联络人{n}", f"p{n}@example.cn",
                             ranking_context(n), period=period) for n in range(count)]
    start = time.perf_counter()
    with session_scope() as session:
        outbox.queue(session, drafts)
    report = delivery.deliver_pending()
    assert report.delivered == count, report
    return time.perf_counter() - start


def bare_messages(count: int):
    """The same messages, rendered by bare Jinja from the same template files (which need the
    globals the app gives them: `fmt`, and the app's table, paragraph and list builders)."""
    from functools import partial

    from jinja2 import Environment, FileSystemLoader

    from lianchuang.tasks.outbox.rendering import TEMPLATES_DIR, bullet_list, paragraph, table

    html_env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True)
    text_env = Environment(loader=FileSystemLoader(TEMPLATES_DIR))
    for env, html in ((html_env, True), (text_env, False)):
        env.filters.update(cn_date=str, yuan=str, label=str)
        env.globals.update(fmt="html" if html else "text", table_markup=partial(table, html=html),
                           paragraph=partial(paragraph, html=html), bullet_list=partial(bullet_list, html=html))
    html_t, text_t = html_env.get_template("notices/ranking.j2"), text_env.get_template("notices/ranking.j2")
    for n in range(count):
        context = {"recipient": f"联络人{n}", "contact": "x", **ranking_context(n)}
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@example.cn", f"p{n}@example.cn", f"排名 {n}"
        message.set_content(text_t.render(context))
        message.add_alternative(html_t.render(context), subtype="html")
        yield message


def bare_maildir(count: int, folder: Path) -> float:
    start = time.perf_counter()
    box = mailbox.Maildir(folder, create=True)
    for message in bare_messages(count):
        box.add(message)
    return time.perf_counter() - start


def bare_smtp(count: int, port: int) -> float:
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as connection:
        for message in bare_messages(count):
            connection.send_message(message)
    return time.perf_counter() - start


def main() -> None:
    from common import fresh_database

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    work, url = fresh_database(args.database_url)
    from smtp_server import SmtpServer

    from lianchuang.models.db import drop_everything
    from lianchuang.settings import reset_settings

    rows = []
    app_maildir = app_run(args.count, "maildir")
    rows.append(("Maildir", app_maildir, bare_maildir(args.count, work / "bare-maildir")))
    with SmtpServer() as server:
        os.environ.update(LIANCHUANG_SMTP_HOST="127.0.0.1", LIANCHUANG_SMTP_PORT=str(server.port))
        reset_settings()
        app_smtp = app_run(args.count, "smtp")
        received = len(server.recorder.messages)
        rows.append(("SMTP (loopback)", app_smtp, bare_smtp(args.count, server.port)))
        assert len(server.recorder.messages) == received + args.count
    print(f"{args.count} ranking notices, database {url.split('@')[-1].split('?')[0]}")
    print(f"{'channel':<16}{'lianchuang':>18}{'bare baseline':>18}{'ratio':>8}")
    for channel, app_seconds, bare_seconds in rows:
        print(f"{channel:<16}{args.count / app_seconds:>12,.0f} msg/s{args.count / bare_seconds:>12,.0f} msg/s"
              f"{app_seconds / bare_seconds:>8.2f}")
    drop_everything(url)


if __name__ == "__main__":
    main()
