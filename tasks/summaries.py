"""Chinese labels for the figures a stage run reports, for the CLI and the Prefect UI alike."""

RESULT_LABELS = {
    "solicitations": "征求意见通知", "public_calls": "公开栏征求意见公告（含意见表，待张贴）", "meeting_notices": "联席会议通知", "feedback": "意见反馈通知",
    "communities_decided": "已议定完毕的社区", "communities": "社区", "tasks_assigned": "新分工任务",
    "cards_completed": "补全的任务卡", "posts_opened": "新开设岗位", "assignment_notices": "分工通知",
    "incomplete_tasks": "任务卡不完整的任务", "commitments_prepared": "新生成责任状/承诺书",
    "communities_published": "新公开承诺的社区", "commitment_notices": "公开承诺通知",
    "blocked_by_incomplete_cards": "因任务卡不完整暂不能公开的社区", "months": "排名月份数", "newly_published": "新发布",
    "ranking_notices": "排名通知", "overdue_reminders": "逾期提醒", "progress_reminders": "进度报送提醒", "invitations": "评议邀请",
    "tasks_rated": "已评定任务", "progress_ahead_of_grades": "进度明显高于评议的社区（数据核查）", "communities_awarded": "获创新奖社区", "funding_allocated": "核定经费（元）",
    "result_notices": "结果公示通知", "fulfilment_notices": "践诺反馈（给提建议的居民）", "hold_notices": "暂缓发布通知", "delivered": "本次发出邮件", "failed": "发送失败（地址被拒）",
    "deferred": "暂未发出（服务器不可用，下次重试）", "to_print": "纸质送达通知（累计）",
    "board_pages": "公开栏页面", "requeued": "重新排队的失败通知",
    "chat_sent": "发到群里的消息", "chat_failed": "群机器人拒收的消息", "chat_deferred": "暂未发到群里（下次再发）",
    "emergency_places": "临时岗位人数", "award_notices": "创新奖与经费通知", "emergency_notices": "紧急通知",
}


def result_lines(summary: dict) -> list[tuple[str, str]]:
    """(label, formatted value) for every figure of a stage's summary (lists, tables and paths are
    shown by the command that asked for them)."""
    return [(RESULT_LABELS.get(key, key), f"{value:,}" if isinstance(value, int) else str(value))
            for key, value in summary.items() if key in RESULT_LABELS or isinstance(value, (int, float))]
