"""The rules that decide the money, in one place: the monthly ranking's weights, the year score's
weights, the award tiers and the funding split. Every rule, notice, open-data description and
sample reads them from here (the stages own how they are applied)."""

# Monthly ranking: score = PROGRESS_WEIGHT × progress score + ON_TIME_WEIGHT × on-time score
PROGRESS_WEIGHT, ON_TIME_WEIGHT = 0.7, 0.3

# Year score: EVALUATION × evaluation + RANKING × mean monthly ranking score + INNOVATION × innovation
YEAR_EVALUATION_WEIGHT, YEAR_RANKING_WEIGHT, YEAR_INNOVATION_WEIGHT = 0.5, 0.3, 0.2

# The innovation award: (name, share of the district's communities, weight in the bonus pool)
AWARDS = [("一等奖", 0.1, 3), ("二等奖", 0.2, 2), ("三等奖", 0.3, 1)]
BASE_SHARE = 0.6  # of the budget, shared equally; the rest by award weight


def ranking_formula() -> str:
    return f"得分 = {PROGRESS_WEIGHT}×进度得分 + {ON_TIME_WEIGHT}×按时得分"
