"""Cron validation and the daylight-saving rule (refuse unless explicitly allowed)."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from deltastore.errors import ConfigError
from deltastore.workflows.argo.options import DEFAULT_OPTIONS
from deltastore.workflows.argo.render import render_objects
from deltastore.workflows.argo.schedule import check_schedule, dst_conflicts, parse_cron, zone

YEARS = (2026, 2027)


@pytest.mark.parametrize(("expression", "hours", "minutes"), [
    ("0 2 * * *", {2}, {0}),
    ("0 */4 * * *", {0, 4, 8, 12, 16, 20}, {0}),
    ("15,45 1-3 * JAN-MAR mon-fri", {1, 2, 3}, {15, 45}),
    ("*/20 5 1 * 0", {5}, {0, 20, 40}),
    ("30 3/6 ? * *", {3, 9, 15, 21}, {30}),
])
def test_valid_cron_expressions(expression, hours, minutes):
    parsed = parse_cron(expression)
    assert parsed.hours == hours and parsed.minutes == minutes


@pytest.mark.parametrize(("expression", "complaint"), [
    ("0 2 * *", "5 fields"),
    ("0 24 * * *", "hour `24` has `24` outside 0-23"),
    ("60 2 * * *", "minute"),
    ("0 2 32 * *", "day of month"),
    ("0 2 * 13 *", "month"),
    ("0 2 * * 8", "day of week"),
    # robfig/cron v3.0.1 spec.go: `dow = bounds{0, 6, …}`; no L, W or # (parser.go getRange).
    ("0 2 * * 7", "day of week `7` has `7` outside 0-6"),
    ("0 2 L * *", "day of month `L` has `L`, which is not a number"),
    ("0 2 15W * *", "day of month"),
    ("0 2 ? * 5#3", "day of week"),
    ("0 5-2 * * *", "backwards"),
    ("*/0 2 * * *", "step"),
    ("0 two * * *", "not a number"),
])
def test_invalid_cron_expressions_say_which_field(expression, complaint):
    with pytest.raises(ConfigError, match=complaint):
        parse_cron(expression)


def test_unknown_timezone():
    with pytest.raises(ConfigError, match="IANA"):
        zone("Mars/Olympus_Mons")


def test_utc_and_zones_without_dst_never_conflict():
    for name in ("UTC", "Asia/Tokyo", "Africa/Nairobi"):
        assert dst_conflicts("0 2 * * *", name, YEARS) == []


def test_two_oclock_in_berlin_is_skipped_in_spring_and_repeated_in_autumn():
    conflicts = dst_conflicts("0 2 * * *", "Europe/Berlin", (2026,))
    assert [(c.day, c.kind, c.start, c.minutes) for c in conflicts] == [
        (dt.date(2026, 3, 29), "skipped", dt.time(2, 0), 60),
        (dt.date(2026, 10, 25), "repeated", dt.time(2, 0), 60),
    ]
    assert dst_conflicts("30 3 * * *", "Europe/Berlin", YEARS) == []


def test_new_york_repeats_one_oclock_not_two():
    kinds = {c.kind for c in dst_conflicts("0 2 * * *", "America/New_York", (2026,))}
    assert kinds == {"skipped"}
    assert {c.kind for c in dst_conflicts("30 1 * * *", "America/New_York", (2026,))} == {
        "repeated"}


def test_half_hour_shift_of_lord_howe():
    """02:00-02:30 is skipped in spring, 01:30-02:00 repeated in autumn."""
    assert {c.kind for c in dst_conflicts("15 2 * * *", "Australia/Lord_Howe", (2026,))} == {
        "skipped"}
    assert {c.kind for c in dst_conflicts("45 1 * * *", "Australia/Lord_Howe", (2026,))} == {
        "repeated"}
    assert dst_conflicts("45 2 * * *", "Australia/Lord_Howe", YEARS) == []


def test_render_refuses_a_dst_unsafe_schedule_and_says_how_to_fix():
    with pytest.raises(ConfigError, match="daylight saving.*--allow-dst-schedule"):
        render_objects(DEFAULT_OPTIONS.replace(timezone="Europe/Berlin"))


def test_render_accepts_a_safe_time_in_a_dst_zone():
    objects = render_objects(DEFAULT_OPTIONS.replace(timezone="Europe/Berlin",
                                                     schedule="30 3 * * *",
                                                     freshness_schedule="30 */4 * * *"))
    spec = objects["cronworkflow-deltastore-daily.yaml"]["spec"]
    assert spec["timezone"] == "Europe/Berlin" and spec["schedules"] == ["30 3 * * *"]


def test_explicit_override_renders_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="deltastore.workflows.argo.schedule"):
        check_schedule("0 2 * * *", "Europe/Berlin", allow_dst=True)
    assert "daylight saving" in caplog.text


def test_rendered_cron_workflows_have_valid_schedules_and_zones(default_objects):
    crons = [o for o in default_objects.values() if o["kind"] == "CronWorkflow"]
    assert len(crons) == 2
    for cron in crons:
        spec = cron["spec"]
        zone(spec["timezone"])
        for expression in spec["schedules"]:
            parse_cron(expression)
            assert dst_conflicts(expression, spec["timezone"], YEARS) == []


# Expressions Argo (robfig/cron v3.0.1 ParseStandard) accepts, and ones it refuses, as
# written in parser.go: numbers or case-insensitive names within the field's bounds, `*`
# or `?`, `a-b`, `/step` (a single value with a step runs to the field's maximum), lists.
ACCEPTED = ["0 2 * * *", "0 */4 * * *", "15,45 1-3 * JAN-MAR mon-fri", "*/20 5 1 * 0",
            "30 3/6 ? * *", "05 02 * * *", "0 0 1-31/2 * SUN,sat", "59 23 31 dec Sat",
            "0 0 * * ?", "0-59/15 * * * *"]
REFUSED = ["0 2 * * 7", "0 2 L * *", "0 2 15W * *", "0 2 ? * 5#3", "60 2 * * *",
           "0 24 * * *", "0 2 0 * *", "0 2 * 13 *", "0 2 * * MONDAY", "*/0 2 * * *",
           "0 two * * *", "0 2 * *", "0 2 * * * *", "0 2 * * 1-", "@daily"]


@pytest.mark.parametrize("expression", ACCEPTED + REFUSED)
def test_the_chart_schema_pattern_accepts_what_the_parser_accepts(expression):
    """The chart cannot run Python: its values schema checks the same syntax with
    `cron_pattern()` (the order of a range's ends excepted)."""
    import re

    from deltastore.workflows.argo.schedule import cron_pattern

    try:
        parse_cron(expression)
        parsed = True
    except ConfigError:
        parsed = False
    assert parsed == (expression in ACCEPTED)
    assert bool(re.fullmatch(cron_pattern(), expression)) == parsed


def test_the_chart_schema_holds_the_pattern_and_the_zone_names():
    import json

    from argo_cases import REPO

    from deltastore.workflows.argo.schedule import cron_pattern, timezone_names

    schema = json.loads((REPO / "charts/deltastore/values.schema.json").read_text())
    workflow = schema["properties"]["workflow"]["properties"]
    assert workflow["schedule"]["pattern"] == cron_pattern()
    assert workflow["freshness"]["properties"]["schedule"]["pattern"] == cron_pattern()
    names = workflow["timezone"]["enum"]
    # Listed from this machine's zone database when written; each one must load here.
    assert {"UTC", "Europe/Amsterdam", "America/New_York"} <= set(names)
    assert set(names) <= set(timezone_names()), "a zone Python does not know"
    for name in ("Europe/Amsterdm", "Mars/Olympus_Mons", "CET+1"):
        assert name not in names
