"""Group chats against a loopback HTTP server standing in for WeCom, DingTalk and Feishu: the
payloads, the signatures, the pacing, and once-only delivery across a kill and a re-run."""

import json
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from factories import YEAR, add_task_per_community
from sqlalchemy import select

from lianchuang.models import ChatChannel, ChatMessage, Community, District, Street
from lianchuang.models.db import session_scope
from lianchuang.models.enums import NoticeStatus
from lianchuang.settings import reset_settings
from lianchuang.tasks.cycle import ensure_cycle
from lianchuang.tasks.outbox import channels, chats

DINGTALK_SECRET = "SEC0123456789abcdef"
FEISHU_SECRET = "feishu-secret-42"


class Platforms(BaseHTTPRequestHandler):
    """Answers as the three platforms do (HTTP 200 with an error code of their own) and records every request."""

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        url = urlsplit(self.path)
        self.server.received.append(dict(at=time.monotonic(), platform=url.path.split("/")[1], path=url.path,
                                         query={k: v[0] for k, v in parse_qs(url.query).items()}, body=body))
        answer = self.server.answers.pop(0) if self.server.answers else {"errcode": 0, "errmsg": "ok"}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def platforms(prefect_harness, district, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Platforms)
    server.received, server.answers = [], []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setenv("LIANCHUANG_CHAT_ENDPOINTS", json.dumps({
        "wecom": f"{base}/wecom/send?key={{token}}", "dingtalk": f"{base}/dingtalk/send?access_token={{token}}",
        "feishu": f"{base}/feishu/hook/{{token}}"}))
    monkeypatch.setenv("LIANCHUANG_CHAT_PER_MINUTE", "600")  # 0.1 s apart, so the tests run quickly
    reset_settings()
    with session_scope() as session:
        street = session.scalars(select(Street).order_by(Street.code)).first()
        community = session.scalars(select(Community).where(Community.street_id == street.id).order_by(Community.code)).first()
        district_name = session.scalar(select(District.name))
    channels.add_channel("district", district_name, "dingtalk", chats.BotKey("ding-token", DINGTALK_SECRET))
    channels.add_channel("street", street.name, "wecom", chats.BotKey("wecom-key"))
    channels.add_channel("community", community.code, "feishu", chats.BotKey("feishu-token", FEISHU_SECRET))
    yield server, street, community
    server.shutdown()
    reset_settings()


def ranked_june():
    from lianchuang.tasks.progress.notices import ranking_chat_messages
    from lianchuang.tasks.progress.ranking import publish_ranking

    add_task_per_community()
    with session_scope() as session:
        cycle = ensure_cycle(session, YEAR)
        publish_ranking(session, cycle.id, YEAR, 6, date(YEAR, 7, 1))
        return chats.queue(session, ranking_chat_messages(session, YEAR, cycle.id, 6))


def test_the_ranking_reaches_each_group_signed_and_shaped_for_its_platform(platforms):
    server, street, community = platforms
    assert ranked_june() == 3
    report = chats.deliver_pending()
    assert (report.delivered, report.failed) == (3, 0)
    by_platform = {r["platform"]: r for r in server.received}

    ding = by_platform["dingtalk"]
    assert ding["query"]["access_token"] == "ding-token"
    assert ding["query"]["sign"] == chats.dingtalk_signature(DINGTALK_SECRET, int(ding["query"]["timestamp"]))
    assert ding["body"]["msgtype"] == "markdown" and "前三名" in ding["body"]["markdown"]["text"]
    assert ding["body"]["markdown"]["title"] == f"{YEAR}年6月社区工作任务进度排名"

    wecom = by_platform["wecom"]
    assert wecom["query"]["key"] == "wecom-key" and wecom["body"]["msgtype"] == "markdown"
    assert street.name in wecom["body"]["markdown"]["content"] and "街道内名次" in wecom["body"]["markdown"]["content"]

    feishu = by_platform["feishu"]
    assert feishu["path"] == "/feishu/hook/feishu-token"
    assert feishu["body"]["sign"] == chats.feishu_signature(FEISHU_SECRET, int(feishu["body"]["timestamp"]))
    assert feishu["body"]["msg_type"] == "interactive"
    assert f"**{community.name}**：全区第" in feishu["body"]["card"]["elements"][0]["content"]

    assert ranked_june() == 0 and chats.deliver_pending().delivered == 0  # once each, ever
    assert len(server.received) == 3


def test_the_signatures_are_the_platforms_schemes():
    import base64
    import hashlib
    import hmac

    # DingTalk's documented example: HMAC-SHA256 keyed by the secret over "timestamp\nsecret"
    expected = base64.b64encode(hmac.new(b"SECx", b"1600000000000\nSECx", hashlib.sha256).digest()).decode()
    assert chats.dingtalk_signature("SECx", 1600000000000) == expected
    # Feishu's: keyed by "timestamp\nsecret" over an empty message
    expected = base64.b64encode(hmac.new(b"1600000000\nsx", b"", hashlib.sha256).digest()).decode()
    assert chats.feishu_signature("sx", 1600000000) == expected


def callouts(street, community, count: int) -> int:
    from lianchuang.tasks.division.posts import callout_chat_messages

    with session_scope() as session:
        place = session.get(Community, community.id)
        return sum(chats.queue(session, callout_chat_messages(session, YEAR, place, "应急值守", capacity, "暴雨内涝，转移群众",
                                                               date(YEAR, 7, 3))) for capacity in range(1, count + 1))


def test_a_bot_is_paced_and_a_killed_run_sends_the_rest_once_on_the_next(platforms, monkeypatch):
    server, street, community = platforms
    assert callouts(street, community, 3) == 6  # the community's group and its street's, three call-outs each
    real_post, posts = chats.post, []

    def killed_at_the_fourth(url, body):
        if len(posts) == 3:
            raise KeyboardInterrupt  # the process dies between two messages
        posts.append(url)
        real_post(url, body)

    monkeypatch.setattr(chats, "post", killed_at_the_fourth)
    with pytest.raises(KeyboardInterrupt):
        chats.deliver_pending()
    monkeypatch.setattr(chats, "post", real_post)
    assert chats.deliver_pending().delivered == 3  # the rest at once: nothing claimed by the dead run waits
    bodies = [json.dumps(r["body"], ensure_ascii=False) for r in server.received]
    assert len(bodies) == 6 and len(set(bodies)) == 6
    for platform in ("wecom", "feishu"):
        times = [r["at"] for r in server.received if r["platform"] == platform]
        assert all(later - earlier >= 0.09 for earlier, later in zip(times, times[1:]))  # 600 a minute: 0.1 s apart
    assert "【临时设岗】" in next(r for r in server.received if r["platform"] == "wecom")["body"]["markdown"]["content"]


def test_a_refused_key_is_recorded_and_not_retried_and_the_key_is_never_stored_or_shown(platforms):
    server, street, community = platforms
    server.answers.append({"errcode": 93000, "errmsg": "invalid webhook url"})
    callouts(street, community, 1)
    report = chats.deliver_pending()
    assert report.failed == 1 and "93000" in report.errors[0]
    with session_scope() as session:
        failed = session.scalars(select(ChatMessage).where(ChatMessage.status == NoticeStatus.failed)).one()
        assert "invalid webhook url" in failed.last_error
        stored = json.dumps([(c.place_code, c.platform, c.secret_block) for c in session.scalars(select(ChatChannel))])
    assert chats.deliver_pending().delivered == 0
    assert not any(secret in stored + json.dumps(channels.list_channels(), ensure_ascii=False)
                   for secret in ("wecom-key", "ding-token", DINGTALK_SECRET, FEISHU_SECRET))


def test_a_long_message_is_cut_within_the_platform_limit():
    text = "\n".join(f"{n}. 某某社区（某某街道）88.8分" for n in range(400))
    cut = chats.fitted(text, "wecom")
    assert len(cut.encode()) <= chats.LIMITS["wecom"] and cut.endswith("（全文见邮件）")


def test_a_streets_group_hears_its_missed_milestones_once(platforms):
    from lianchuang.tasks.division.assignment import apply, propose
    from lianchuang.tasks.division.cards import complete_task_cards
    from lianchuang.tasks.progress.notices import overdue_chat_messages

    server, street, community = platforms
    add_task_per_community()
    with session_scope() as session:
        cycle = ensure_cycle(session, YEAR)
        ids = list(session.scalars(select(Community.id)))
        apply(session, propose(session, cycle.id, ids)[0])
        complete_task_cards(session, YEAR, cycle.id, ids)  # quarterly milestones: March's is missed, nobody reported
        assert chats.queue(session, overdue_chat_messages(session, YEAR, cycle.id, 3)) == 1  # the street with a bot
        assert chats.queue(session, overdue_chat_messages(session, YEAR, cycle.id, 3)) == 0
    assert chats.deliver_pending().delivered == 1
    content = server.received[0]["body"]["markdown"]["content"]
    assert f"【逾期提醒】{street.name}3月有" in content and community.name in content and "实际0%" in content


def test_the_districts_group_hears_the_results_with_the_objection_deadline(platforms):
    from lianchuang.models import DistrictEvaluation, EvaluationResult, Task
    from lianchuang.tasks.evaluation.notices import results_chat_messages

    server, street, community = platforms
    add_task_per_community()
    with session_scope() as session:
        cycle = ensure_cycle(session, YEAR)
        tasks = session.execute(select(Task.id, Community.name).join(Community).order_by(Community.code)).all()
        session.add_all(EvaluationResult(cycle_id=cycle.id, task_id=task_id, ballots=5, score=80.0 + n)
                        for n, (task_id, _) in enumerate(tasks))
        session.add(DistrictEvaluation(cycle_id=cycle.id, district_id=session.scalar(select(District.id)),
                                       closed_on=date(YEAR + 1, 1, 8), objection_deadline=date(YEAR + 1, 1, 15)))
        session.flush()
        assert chats.queue(session, results_chat_messages(session, YEAR, cycle.id)) == 1  # the district's bot
    assert chats.deliver_pending().delivered == 1
    text = server.received[0]["body"]["markdown"]["text"]
    best = tasks[-1][1]
    assert f"{YEAR}年度联合考评结果公示" in text and f"1. {best} {80.0 + len(tasks) - 1:.1f}分" in text
    assert f"{YEAR + 1}-01-15 前提出" in text


def test_a_bot_whose_key_was_deleted_fails_its_messages_with_the_reason_and_the_rest_go(platforms):
    server, street, community = platforms
    chats.forget_key(chats.block_name("wecom", street.code))  # someone deleted the block in the Prefect UI
    callouts(street, community, 1)  # to the street's WeCom group and the community's Feishu group
    report = chats.deliver_pending()
    assert (report.delivered, report.failed) == (1, 1) and "找不到保存 key 的 Prefect 密钥块" in report.errors[0]
    assert [r["platform"] for r in server.received] == ["feishu"]


def test_the_list_reads_from_the_district_down(platforms):
    assert [row["level"] for row in channels.list_channels()] == ["区", "街道", "社区"]
