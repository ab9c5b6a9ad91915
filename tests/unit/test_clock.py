"""Month arithmetic, in its one home."""

from datetime import date

from lianchuang import clock


def test_months_follow_each_other_across_the_new_year():
    assert clock.first_of_next_month(2026, 12) == date(2027, 1, 1)
    assert clock.month_end(2027, 2) == date(2027, 2, 28)
    assert clock.last_finished_month(date(2027, 1, 1)) == (2026, 12)
    assert clock.last_finished_month(date(2027, 3, 31)) == (2027, 2)
    assert clock.finished_months(2026, date(2027, 1, 1)) == list(range(1, 13))
    assert clock.finished_months(2027, date(2027, 3, 1)) == [1, 2]


def test_the_year_under_evaluation_is_last_year_in_january():
    assert clock.evaluation_year(date(2028, 1, 20)) == 2027
    assert clock.evaluation_year(date(2027, 12, 20)) == 2027
