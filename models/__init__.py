"""SQLAlchemy models of the whole yearly cycle, the engine and session, and shared queries.
Knows nothing of Prefect, templates or email."""

from lianchuang.models.base import Base
from lianchuang.models.chat import ChatChannel, ChatMessage
from lianchuang.models.cycle import Cycle, DistrictEvaluation, RuleScheme, StageState
from lianchuang.models.evaluation import (
                                         AwardResult,
                                         Ballot,
                                         EvaluationItem,
                                         EvaluationResult,
                                         Evaluator,
                                         GradePoint,
                                         GroupWeight,
                                         Objection,
                                         PersonResult,
)
from lianchuang.models.follow_up import (
    Commitment,
    MonthlyRanking,
    ProgressReport,
    RankingAudit,
    RankingCorrection,
    RankingOverdueTask,
    SupersededRanking,
)
from lianchuang.models.org import AppUser, Community, District, Person, Street, Unit
from lianchuang.models.outbox import AuditEntry, Notice, NoticeBody
from lianchuang.models.posts import Post, PostClaim, PostKind
from lianchuang.models.work import CommittedMilestone, Meeting, Milestone, Opinion, Task, TaskCoUnit

__all__ = [
    "AppUser", "ChatChannel", "ChatMessage",
    "AuditEntry", "AwardResult", "Ballot", "Base", "Commitment", "Community", "Cycle", "District", "DistrictEvaluation",
    "CommittedMilestone", "EvaluationItem", "EvaluationResult", "Evaluator", "GradePoint", "GroupWeight", "Objection", "PersonResult", "Meeting", "Milestone",
    "MonthlyRanking", "RankingAudit", "RankingCorrection", "RankingOverdueTask", "SupersededRanking", "Notice", "NoticeBody", "Opinion", "Person", "Post", "PostClaim", "PostKind",
    "ProgressReport", "RuleScheme", "StageState", "Street", "Task", "TaskCoUnit", "Unit",
]
