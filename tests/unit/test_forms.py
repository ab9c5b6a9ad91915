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
