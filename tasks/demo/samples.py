"""Sample data for every notice template: `lianchuang notices preview` renders these, and the tests
render every template with them in every locale."""

from datetime import date

from lianchuang.tasks.evaluation.award import EVALUATION_WEIGHT, INNOVATION_WEIGHT, PROGRESS_WEIGHT, award_rule
from lianchuang.tasks.rules import ON_TIME_WEIGHT, PROGRESS_WEIGHT as RANKING_PROGRESS_WEIGHT

_RANKING_ROWS = [[1, 1, "江滨社区", 92.5, 95.0, 86.7, 12, 1], [2, 2, "碧湖社区", 88.1, 90.3, 83.3, 11, 2]]

SAMPLES = {
    "solicitation": dict(year=2026, community="江滨社区", source_kind="stationed_unit", deadline=date(2026, 1, 31)),
    "meeting": dict(year=2026, community="江滨社区", held_on=date(2026, 2, 17), time="14:30", place="江滨社区党群服务中心会议室",
                    agenda=[["stationed_unit", 4], ["residents", 6], ["mass_org", 2]]),
    "feedback": dict(year=2026, community="江滨社区", content="建议加强沿江小区夜间巡逻", submitted_on=date(2026, 1, 12),
                     status="adopted", task_code="D01S01C01-003", task_title="加强沿江小区夜间巡逻", reason="—"),
    "assignment": dict(year=2026, community="江滨社区", tasks=[
        dict(code="D01S01C01-003", title="加强沿江小区夜间巡逻", role="responsible", goal="全年发案率下降20%",
             deadline=date(2026, 12, 31))]),
    "commitment": dict(year=2026, community="江滨社区", kind="statement", published_on=date(2026, 3, 25),
                       tasks=[dict(code="D01S01C01-003", title="加强沿江小区夜间巡逻", role="lead")], posts=[]),
    "ranking": dict(year=2026, month=10, scope="community", chart=False, scope_name="江滨社区", community="江滨社区",
                    own=dict(score=92.5, street="列东街道", rank_in_street=1, rank_in_district=3, previous_rank=2,
                             before=None), correction=None,
                    overdue=[["D01S01C01-005", "改造老旧下水道", "75%", "60%"]], rows=_RANKING_ROWS,
                    jump_points=30, audit=dict(
                        stability=[["江滨社区", 1, "1", "1–2"], ["碧湖社区", 2, "2–3", "1–3"]],
                        jumps=[["碧湖社区", "D01S01C02-004", "整治楼院卫生", "20%", "90%", "2026-11-05"]],
                        sample=[["列东街道", "江滨社区", "D01S01C01-003", "加强沿江小区夜间巡逻", "60%", "2026-10-28"]]),
                    weights=dict(progress=RANKING_PROGRESS_WEIGHT, on_time=ON_TIME_WEIGHT, version=0)),
    "emergency": dict(year=2026, community="江滨社区", kind="突发事件处置岗", duty="突发事件时参与救援和灾后重建",
                      capacity=30, situation="受强降雨影响，沿江小区部分楼栋进水，急需人手转移群众、清理淤泥。",
                      opened_on=date(2026, 6, 20), home=True),
    "overdue": dict(year=2026, through_month=9, tasks=[
        ["D01S01C01-005", "江滨社区", "改造老旧下水道", "9月：基本完成", "75%", "60%"],
        ["D01S01C01-009", "江滨社区", "沿江步道照明", "8月：全面完成并总结", "100%", "80%"]]),
    "progress_reminder": dict(year=2026, month=10, community="江滨社区", report_by=date(2026, 10, 25), tasks=[
        dict(code="D01S01C01-003", title="加强沿江小区夜间巡逻", percent=60, planned=75)]),
    "evaluation_invitation": dict(year=2026, community="江滨社区", group="party_members", code="7F3A9C21D0",
                                  tasks=[("D01S01C01-003", "加强沿江小区夜间巡逻", "市供电公司"),
                                         ("D01S01C01-007", "组建社区文艺队", "老年协会")],
                                  grades=["优秀", "良好", "一般", "较差"], collector="李红", deadline=date(2026, 12, 20),
                                  categories=[["public_safety", ["巡逻防控", "治安隐患整改"]], ["culture", ["文艺队伍建设"]]],
                                  evidence=["D01S01C01-003 加强沿江小区夜间巡逻：目标 沿江小区夜间巡逻全覆盖；承诺的步骤 3月 25% 组建巡逻队；"
                                            "12月 100% 全年巡逻；报告进度 100%（12月2日报告）；来自 3 条群众意见建议",
                                            "D01S01C01-007 组建社区文艺队：目标 按期完成“组建社区文艺队”，群众满意；承诺的步骤 6月 50% 招募队员；"
                                            "10月 100% 汇报演出；报告进度 80%（11月25日报告）"]),
    "evaluation_results": dict(year=2026, community="江滨社区", objection_deadline=date(2027, 1, 12),
                               rows=[["D01S01C01-003", "加强沿江小区夜间巡逻", "市供电公司", 23, 86.4],
                                     ["D01S01C01-007", "组建社区文艺队", "老年协会", 2, None]]),
    "objection_answer": dict(year=2026, community="江滨社区", number=3, subject="D01S01C01-003", submitted_by="张三",
                             content="巡逻只在周末，评分偏高", received_on=date(2027, 1, 5), answered_on=date(2027, 1, 8),
                             response="经查巡逻记录，工作日同样有巡逻，维持原评议结果。", upheld=False),
    "award_summary": dict(year=2026, scope_name="鼓楼区", total=500_000, rule=award_rule(),
                          awards=[("一等奖", 3), ("二等奖", 5), ("三等奖", 8)],
                          rows=[[1, "江滨社区", "列东街道", 88.6, "一等奖", "32,815"], [25, "三元社区", "列西街道", 61.2, "—", "12,000"]]),
    "fulfilment": dict(year=2026, occasion="year_end", community="江滨社区", content="沿江小区晚上太黑，希望加强巡逻",
                       submitted_on=date(2026, 1, 12), task_code="D01S01C01-003", task_title="加强沿江小区夜间巡逻",
                       lead_unit="市供电公司", percent=100, score=86.4),
    "decision_held": dict(year=2026, step="award", reason="经费总额待区委确认", command="lianchuang award --budget 500000"),
    "schedule_alert": dict(year=2026, month=10, problem="没有开始", due="2026-11-06 08:00", checked="2026-11-06 09:00",
                           detail="", console="http://127.0.0.1:4200"),
    "run_alert": dict(run="D01 2026年10月排名（待审核）", deployment="D01：每月进度报送截止日的次日8:00：预览上月排名",
                      happened="失败", kind="Failed", detail="2026年10月的排名已经发布，更正请填写更正原因",
                      expected="2026-11-06 08:00", link="http://127.0.0.1:4200/runs/flow-run/0b6c3f0e"),
    "ranking_held": dict(year=2026, month=10, reason="两个社区的进度报表有误，核实后再发布"),
    "award": dict(year=2026, community="江滨社区", year_score=84.2, rank=2, award="一等奖", funding=32_815,
                  rule=award_rule(),
                  explanation=f"综合得分 84.2 = {EVALUATION_WEIGHT}×评议平均分 86.0 + {PROGRESS_WEIGHT}×月度进度平均分 80.5 + "
                              f"{INNOVATION_WEIGHT}×党建创新得分 85.0，25 个社区中排第 2 名；基础经费 12,000 元 + 奖励经费 20,815 元（一等奖，权重 3）"),
}
