"""The run forms of the Prefect UI: every field titled and described in Chinese, numbers bounded so
the server refuses a month of 13 before any flow runs, and each deployment tagged with its stage."""

import jsonschema
import pytest

from lianchuang.flows.schedules import deployments


@pytest.fixture(scope="module")
def forms():
    return {d.name: d for d in deployments()}


def test_every_field_of_every_form_has_a_chinese_title_and_help(forms):
    for name, deployment in forms.items():
        for field_name, field in deployment._parameter_openapi_schema.properties.items():
            assert any("\u4e00" <= c <= "\u9fff" for c in field.get("title", "")), (name, field_name)
            assert field.get("description"), (name, field_name)


@pytest.mark.parametrize("form, parameters, valid", [
    ("monthly-ranking", {"year": 2026, "month": 11}, True),
    ("monthly-ranking", {"year": 2026, "month": 13}, False),
    ("monthly-ranking", {"year": 2026, "month": 0}, False),
    ("ranking", {"year": 2026, "months": [3, 4]}, True),
    ("ranking", {"year": 2026, "months": [13]}, False),
    ("ranking", {"year": 2026, "months": []}, False),
    ("ranking", {"year": 26, "months": [3]}, False),
    ("award", {"year": 2026, "budget": -1}, False),
    ("weekly-reminders", {"through_month": None}, True),
])
def test_the_server_refuses_what_no_month_or_budget_can_be(forms, form, parameters, valid):
    schema = forms[form]._parameter_openapi_schema.model_dump()
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(parameters))
    assert (not errors) == valid, errors


def test_each_deployment_is_tagged_with_its_stage(forms):
    assert forms["ranking"].tags == ["stage-4"] and forms["monthly-ranking"].tags == ["stage-4"]
    assert forms["award"].tags == ["stage-5"] and forms["opinions"].tags == ["stage-1"]
    assert forms["deliver-outbox"].tags == ["operations"]
    assert {d.name: d.tags for d in deployments("D01")}["ranking-D01"] == ["stage-4", "district-D01"]


def _flow_run_event(name: str, tags: list[str]):
    from datetime import datetime, timezone
    from uuid import uuid4

    from prefect.server.events.schemas.events import ReceivedEvent

    return ReceivedEvent(occurred=datetime.now(timezone.utc), event=name, id=uuid4(),
                         resource={"prefect.resource.id": f"prefect.flow-run.{uuid4()}"},
                         related=[{"prefect.resource.id": f"prefect.tag.{tag}", "prefect.resource.role": "tag"} for tag in tags])


def _server_triggers(deployment):
    from prefect.events.schemas.automations import EventTrigger as ClientTrigger
    from prefect.server.events.schemas.automations import EventTrigger

    return [EventTrigger.model_validate(t.model_dump(mode="json", include=set(ClientTrigger.model_fields) - {"id"}))
            for t in deployment.triggers]


def test_the_alerts_watch_every_stage_run_of_their_district_and_never_their_own(forms):
    """A failed or crashed stage run fires the first automation, a late one starts the second's
    wait for a start; the alerts' own runs and another district's runs fire nothing."""
    failed, late = _server_triggers(forms["alerts"])
    assert failed.covers(_flow_run_event("prefect.flow-run.Failed", ["stage-4"]))
    assert failed.covers(_flow_run_event("prefect.flow-run.Crashed", ["operations"]))
    assert not failed.covers(_flow_run_event("prefect.flow-run.Failed", ["alerts"]))
    assert not failed.covers(_flow_run_event("prefect.flow-run.Completed", ["stage-4"]))
    assert late.starts_after("prefect.flow-run.Late") and late.expects("prefect.flow-run.Running")
    assert late.within.total_seconds() == 3600 and late.posture == "Proactive"
    own, _ = _server_triggers({d.name: d for d in deployments("D01")}["alerts-D01"])
    assert own.covers(_flow_run_event("prefect.flow-run.Failed", ["stage-4", "district-D01"]))
    assert not own.covers(_flow_run_event("prefect.flow-run.Failed", ["stage-4", "district-D02"]))


def test_a_district_ranks_or_allocates_one_run_at_a_time(forms):
    assert forms["ranking"].concurrency_limit == 1 and forms["monthly-ranking"].concurrency_limit == 1
    assert forms["award"].concurrency_limit == 1 and forms["board"].concurrency_limit is None


def test_every_table_a_role_may_be_refused_is_named_in_chinese():
    """A refused write names what was refused in Chinese ("stage_state" was shown as it is)."""
    from lianchuang.models.db import TABLE_WORDS
    from lianchuang.tasks.access import SCOPED_TABLES, SPECIAL_POLICIES

    assert (set(SCOPED_TABLES) | set(SPECIAL_POLICIES)) - set(TABLE_WORDS) == set()


def test_open_data_rows_hold_iso_dates_chinese_names_and_inert_formulas_column_by_column():
    from datetime import date

    from lianchuang.models.enums import Category
    from lianchuang.tasks.open_data import _inert_rows, _plain_rows

    rows = _plain_rows([(None, None, "=cmd|' /C calc'!A0", 5), (date(2026, 3, 1), Category.culture, "-1", None)])
    assert rows == [[None, None, "=cmd|' /C calc'!A0", 5], ["2026-03-01", Category.culture.label, "-1", None]]
    assert _inert_rows(rows) == [[None, None, "'=cmd|' /C calc'!A0", 5], ["2026-03-01", Category.culture.label, "'-1", None]]
    assert rows[1][2] == "-1"  # the JSON keeps the text as it was


def test_open_data_finds_a_formula_cell_anywhere_in_a_column_and_leaves_a_line_break_alone():
    """The search over a column's text finds a risky cell in any row; a cell whose second line starts
    with "-" only makes the column searched cell by cell, and is written as it is."""
    from lianchuang.tasks.open_data import _inert_rows

    rows = [["安全", "一行\n-二行"], ["文明", "普通"], ["@SUM(A1)", "+1"]]
    assert _inert_rows(rows) == [["安全", "一行\n-二行"], ["文明", "普通"], ["'@SUM(A1)", "'+1"]]
    assert _inert_rows([["安全", "一行\n-二行"]]) == [["安全", "一行\n-二行"]]
