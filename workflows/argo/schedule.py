"""Cron schedules: a validator for the five-field expressions Argo accepts, and DST safety.

The syntax is robfig/cron v3's, which Argo parses schedules with (``cron.ParseStandard``,
argo-workflows v3.7.18 workflow/validate/validate.go; robfig/cron v3.0.1 parser.go and
spec.go): numbers or names (case-insensitive) within each field's bounds, ``*`` or ``?``,
ranges ``a-b``, steps ``/n``, lists; day of week 0-6 (Sunday is 0; 7, ``L``, ``W`` and
``#`` are refused). The chart's values schema checks the same syntax with
``cron_pattern()`` and the zones with ``timezone_names()``; only this module checks
daylight saving (the chart asks for ``workflow.allowDstSchedule`` outside UTC and points
here).

A daily 02:00 run in a zone with daylight saving is skipped on the spring-forward day and
runs twice on the fall-back day. Rule chosen here: UTC (the default) and zones without DST
transitions are always fine; in a DST zone, a schedule whose hour/minute can fall inside a
skipped or repeated local interval is REFUSED with a ConfigError that names the interval and
suggests a safe time, unless ``allow_dst_schedule`` is set (then it is only logged as a
warning). Refusing beats silently moving the time: the operator sees and picks the time.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from dataclasses import dataclass

from deltastore.errors import ConfigError

log = logging.getLogger(__name__)

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()   # names[i] stands for low + i


FIELDS = (
    Field("minute", 0, 59),
    Field("hour", 0, 23),
    Field("day of month", 1, 31),
    Field("month", 1, 12, _MONTHS),
    Field("day of week", 0, 6, _DAYS),
)


@dataclass(frozen=True)
class CronSchedule:
    minutes: frozenset[int]
    hours: frozenset[int]


def parse_cron(expression: str) -> CronSchedule:
    """Validate a five-field cron expression; ConfigError says which field is wrong."""
    parts = expression.split()
    if len(parts) != len(FIELDS):
        raise ConfigError(
            f"schedule `{expression}` must have 5 fields (minute hour day-of-month month "
            "day-of-week), for example `0 2 * * *`"
        )
    values = [_parse_field(part, field, expression)
              for part, field in zip(parts, FIELDS, strict=True)]
    return CronSchedule(minutes=frozenset(values[0]), hours=frozenset(values[1]))


def _parse_field(text: str, field: Field, expression: str) -> set[int]:
    def bad(why: str) -> ConfigError:
        return ConfigError(f"schedule `{expression}`: {field.name} `{text}` {why}")

    def number(token: str) -> int:
        upper = token.upper()
        if upper in field.names:
            return field.low + field.names.index(upper)
        if not token.isdigit():
            raise bad(f"has `{token}`, which is not a number")
        value = int(token)
        if not field.low <= value <= field.high:
            raise bad(f"has `{value}` outside {field.low}-{field.high}")
        return value

    result: set[int] = set()
    for item in text.split(","):
        body, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise bad(f"has step `{step_text}`, which is not a whole number above 0")
            step = int(step_text)
        if body in ("*", "?"):
            low, high = field.low, field.high
        elif "-" in body:
            first, _, last = body.partition("-")
            low, high = number(first), number(last)
            if low > high:
                raise bad(f"has the range `{body}` backwards")
        else:
            low = number(body)
            high = field.high if slash else low
        result.update(range(low, high + 1, step))
    return result


def _field_pattern(field: Field) -> str:
    numbers = "|".join(str(n) for n in range(field.high, field.low - 1, -1))
    names = ["".join(f"[{c.upper()}{c.lower()}]" for c in name) for name in field.names]
    value = f"(?:0*(?:{numbers}){''.join('|' + n for n in names)})"
    item = rf"(?:[*?]|{value}(?:-{value})?)(?:/0*[1-9][0-9]*)?"
    return rf"{item}(?:,{item})*"


def cron_pattern() -> str:
    """A regular expression for what ``parse_cron`` accepts, but for the order of a
    range's ends (`5-2`): the chart's values schema uses it."""
    return r"^\s*" + r"\s+".join(_field_pattern(f) for f in FIELDS) + r"\s*$"


def timezone_names() -> list[str]:
    """The IANA zone names this machine knows (the chart's values schema lists them; Argo's
    controller embeds Go's copy of the same database)."""
    return sorted(zoneinfo.available_timezones())


def zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"timezone `{name}` is not an IANA zone name: use e.g. `UTC` or `Europe/Berlin`"
        ) from None


@dataclass(frozen=True)
class Transition:
    """Local wall-clock minutes [start, start + minutes) that are skipped or repeated."""

    day: dt.date
    start: dt.time
    minutes: int
    kind: str   # "skipped" or "repeated"


def transitions(tz: zoneinfo.ZoneInfo, years: tuple[int, ...]) -> list[Transition]:
    """Offset changes of ``tz`` during ``years``, as local intervals."""
    found: list[Transition] = []
    for year in years:
        previous = dt.datetime(year, 1, 1, 12, tzinfo=dt.UTC)
        for _ in range(366):
            current = previous + dt.timedelta(days=1)
            if current.year > year:
                break
            if previous.astimezone(tz).utcoffset() != current.astimezone(tz).utcoffset():
                found.append(_transition_between(tz, previous, current))
            previous = current
    return found


def _transition_between(tz: zoneinfo.ZoneInfo, before: dt.datetime,
                        after: dt.datetime) -> Transition:
    # Bisect to the minute at which the offset changes.
    old = before.astimezone(tz).utcoffset()
    while after - before > dt.timedelta(minutes=1):
        middle = before + (after - before) / 2
        if middle.astimezone(tz).utcoffset() == old:
            before = middle
        else:
            after = middle
    instant = after.replace(second=0, microsecond=0)
    old_offset = before.astimezone(tz).utcoffset() or dt.timedelta()
    new_offset = instant.astimezone(tz).utcoffset() or dt.timedelta()
    shift = new_offset - old_offset
    # Spring forward: local times from (instant + old) are skipped; fall back: from
    # (instant + new) they happen twice.
    local_start = (instant + (old_offset if shift > dt.timedelta() else new_offset)).replace(
        tzinfo=None)
    return Transition(local_start.date(), local_start.time(), abs(int(shift.total_seconds())) // 60,
                      "skipped" if shift > dt.timedelta() else "repeated")


def dst_conflicts(expression: str, timezone: str,
                  years: tuple[int, ...] | None = None) -> list[Transition]:
    """Transitions during which this schedule would be skipped or run twice."""
    schedule = parse_cron(expression)
    tz = zone(timezone)
    if years is None:
        this_year = dt.date.today().year
        years = (this_year, this_year + 1)
    conflicts = []
    for change in transitions(tz, years):
        start = change.start.hour * 60 + change.start.minute
        window = {(start + i) % 1440 for i in range(change.minutes)}
        if any(h * 60 + m in window for h in schedule.hours for m in schedule.minutes):
            conflicts.append(change)
    return conflicts


def check_schedule(expression: str, timezone: str, allow_dst: bool = False) -> None:
    """Validate a schedule and its zone; refuse DST-unsafe times unless allowed."""
    conflicts = dst_conflicts(expression, timezone)
    if not conflicts:
        return
    first = conflicts[0]
    end = (dt.datetime.combine(first.day, first.start)
           + dt.timedelta(minutes=first.minutes)).time()
    message = (
        f"schedule `{expression}` in timezone `{timezone}` falls in local time "
        f"{first.start:%H:%M}-{end:%H:%M}, which is {first.kind} on {first.day} (daylight "
        f"saving): choose a time outside it (for example minute 30 of hour {end.hour + 1:02d}), "
        "use timezone `UTC`, or allow it explicitly (`--allow-dst-schedule`)"
    )
    if not allow_dst:
        raise ConfigError(message)
    log.warning("%s; allowed by option", message)
