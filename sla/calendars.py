"""Business time: when is a clock due, and how much working time lies between two instants.

A pure API (no ORM, no settings, no now()) used by the SLA policies, the pages and the tests::

    calendar = WorkCalendar.from_spec({
        "time_zone": "Europe/Berlin",
        "weekly_hours": {"mon": [["09:00", "12:30"], ["13:30", "17:00"]], ..., "sun": []},
        "holidays": ["2026-12-25"],              # company days off
        "holidays_country": "DE",                # optional: public holidays from the `holidays` package
        "holidays_subdivision": "BY",            # optional: and those of a state / region
    })
    calendar.add(start, timedelta(minutes=15))   # the due time of a clock started at `start`
    calendar.between(start, end)                 # business time elapsed from start to end

Conventions:
- A duration that ends exactly at the close of a working period is due at that close, not at the next opening.
- A clock started outside working hours starts counting at the next opening; adding zero returns `start` unchanged
  inside working hours and the next opening outside them (a period's close counts as outside: it is half-open).
- Business time is real elapsed time. Each local working period is turned into an interval of UTC instants, so a
  period that contains a daylight-saving change lasts what it really lasts (a 00:00-24:00 day has 23 or 25 hours),
  and a clock started before a daylight-saving weekend is due at the right local time after it. A local time that
  does not exist (skipped by the change) is read with the offset in force before the change.
- "24:00" is allowed as the end of a period (midnight at the end of that day).
- `add` and `between` take aware datetimes in any time zone and return aware datetimes in the calendar's zone.
- `between(end, start) == -between(start, end)`, so `between(a, b) + between(b, c) == between(a, c)` always.

The work is done day by day (each day's periods once), never minute by minute, so weeks or months cost little.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import holidays as holidays_package

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SPEC_KEYS = frozenset({"time_zone", "weekly_hours", "holidays", "holidays_country", "holidays_subdivision"})
DAY_SECONDS = 24 * 3600
# A calendar whose only working days fall on holidays for this long never ends a clock: refuse rather than loop.
MAX_DAYS_SCANNED = 366 * 20

_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


class CalendarSpecError(ValueError):
    """A calendar spec that cannot be used; `field` names the part that is wrong (e.g. "weekly_hours.mon").

    `problems` holds every problem found, by field, for forms that show them all at once.
    """

    def __init__(self, field: str, message: str, problems: dict[str, list[str]] | None = None):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.problems = problems or {field: [message]}


def _seconds_of(text) -> int | None:
    """'09:30' -> 34200; '24:00' -> 86400; a datetime.time as it is; anything else malformed -> None."""
    if isinstance(text, time):
        return text.hour * 3600 + text.minute * 60 + text.second
    if not isinstance(text, str):
        return None
    match = _TIME_RE.match(text.strip())
    if not match:
        return None
    hours, minutes, seconds = int(match[1]), int(match[2]), int(match[3] or 0)
    if minutes > 59 or seconds > 59:
        return None
    total = hours * 3600 + minutes * 60 + seconds
    if total > DAY_SECONDS:
        return None
    return total


def _day_of(item) -> date | None:
    """'2026-12-25' or a datetime.date -> the date; anything else -> None."""
    if isinstance(item, date) and not isinstance(item, datetime):
        return item
    if not isinstance(item, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", item):
        return None
    try:
        return date.fromisoformat(item)
    except ValueError:
        return None


def calendar_spec_problems(spec) -> dict[str, list[str]]:
    """Everything wrong with a calendar spec, by field ({} when it is usable). The one validation of a calendar."""
    problems: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        problems.setdefault(name, []).append(message)

    if not isinstance(spec, dict):
        add("calendar", "must be an object with time_zone, weekly_hours and holidays.")
        return problems
    unknown = set(spec) - SPEC_KEYS
    if unknown:
        add("calendar", f"unknown keys: {', '.join(sorted(unknown))}.")
    zone = spec.get("time_zone", "UTC")
    try:
        if not isinstance(zone, str) or not zone:
            raise ValueError
        zoneinfo.ZoneInfo(zone)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        add("time_zone", f"'{zone}' is not a time zone name such as Europe/Berlin.")
    hours = spec.get("weekly_hours")
    working = False
    if not isinstance(hours, dict):
        add("weekly_hours", "must map mon ... sun to lists of [start, end] times.")
        hours = {}
    for day, spans in hours.items():
        key = f"weekly_hours.{day}"
        if day not in WEEKDAYS:
            add(key, f"'{day}' is not one of {', '.join(WEEKDAYS)}.")
            continue
        if not isinstance(spans, list | tuple):
            add(key, "must be a list of [start, end] pairs.")
            continue
        parsed = []
        for span in spans:
            if not (isinstance(span, list | tuple) and len(span) == 2):
                add(key, f"{span!r} is not a [start, end] pair.")
                continue
            start, end = _seconds_of(span[0]), _seconds_of(span[1])
            if start is None or end is None or start >= DAY_SECONDS:
                add(key, f"{span[0]!r}-{span[1]!r}: times are written HH:MM, 00:00 to 24:00 (24:00 only as an end).")
            elif end <= start:
                add(key, f"{span[0]}-{span[1]}: a working period must end after it starts.")
            else:
                parsed.append((start, end, span))
        parsed.sort()
        for (_s1, e1, first), (s2, _e2, second) in zip(parsed, parsed[1:], strict=False):
            if s2 < e1:
                add(key, f"{first[0]}-{first[1]} and {second[0]}-{second[1]} overlap.")
        working = working or bool(parsed)
    if not working and "weekly_hours" not in problems and not any(k.startswith("weekly_hours.") for k in problems):
        add("weekly_hours", "a week needs some working hours, or no clock would ever be due.")
    days_off = spec.get("holidays", [])
    if not isinstance(days_off, list | tuple):
        add("holidays", "must be a list of dates (YYYY-MM-DD).")
        days_off = []
    for item in days_off:
        if _day_of(item) is None:
            add("holidays", f"'{item}' is not a date (YYYY-MM-DD).")
    country = spec.get("holidays_country") or ""
    subdivision = spec.get("holidays_subdivision") or ""
    if country:
        if not isinstance(country, str) or country not in holidays_package.list_supported_countries():
            add("holidays_country", f"'{country}' is not a country code with public holidays (e.g. DE, US).")
        elif subdivision:
            known = holidays_package.list_supported_countries()[country]
            if subdivision not in known:
                add("holidays_subdivision", f"'{subdivision}' is not a region of {country} ({', '.join(known)}).")
    elif subdivision:
        add("holidays_subdivision", "needs holidays_country.")
    return problems


@dataclass
class WorkCalendar:
    """Working hours per weekday (seconds from local midnight), days off and public holidays, in one time zone."""

    zone: zoneinfo.ZoneInfo
    weekly: tuple[tuple[tuple[int, int], ...], ...]  # 7 entries, Monday first; sorted, merged
    days_off: frozenset[date] = frozenset()
    holidays_country: str = ""
    holidays_subdivision: str = ""
    _public: dict[int, frozenset[date]] = field(default_factory=dict, repr=False, compare=False)
    _day_cache: dict[date, tuple[tuple[datetime, datetime], ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    # --- construction --------------------------------------------------------------------------------------------

    @classmethod
    def from_spec(cls, spec: dict) -> WorkCalendar:
        """Build a calendar from its JSON spec; a bad spec raises CalendarSpecError naming the field."""
        problems = calendar_spec_problems(spec)
        if problems:
            name = next(iter(problems))
            raise CalendarSpecError(name, problems[name][0], problems)
        hours = spec.get("weekly_hours") or {}
        weekly = []
        for day in WEEKDAYS:
            spans = sorted((_seconds_of(start), _seconds_of(end)) for start, end in hours.get(day, ()))
            merged: list[list[int]] = []
            for start, end in spans:
                if merged and start <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], end)
                else:
                    merged.append([start, end])
            weekly.append(tuple((start, end) for start, end in merged))
        return cls(
            zone=zoneinfo.ZoneInfo(spec.get("time_zone") or "UTC"),
            weekly=tuple(weekly),
            days_off=frozenset(_day_of(item) for item in spec.get("holidays", ())),
            holidays_country=spec.get("holidays_country") or "",
            holidays_subdivision=spec.get("holidays_subdivision") or "",
        )

    # --- days ----------------------------------------------------------------------------------------------------

    def is_day_off(self, day: date) -> bool:
        """A company day off or a public holiday (public holidays are looked up lazily, one year at a time)."""
        if day in self.days_off:
            return True
        if not self.holidays_country:
            return False
        year = self._public.get(day.year)
        if year is None:
            found = holidays_package.country_holidays(
                self.holidays_country, subdiv=self.holidays_subdivision or None, years=day.year
            )
            year = self._public[day.year] = frozenset(found.keys())
        return day in year

    def _local(self, day: date, seconds: int) -> datetime:
        if seconds >= DAY_SECONDS:
            day, seconds = day + timedelta(days=1), seconds - DAY_SECONDS
        wall = datetime.combine(day, time(seconds // 3600, seconds // 60 % 60, seconds % 60), tzinfo=self.zone)
        return wall.astimezone(UTC)

    def day_periods(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The working periods of a local date as (start, end) UTC instants, in order; () on days off."""
        cached = self._day_cache.get(day)
        if cached is not None:
            return cached
        periods = ()
        if self.weekly[day.weekday()] and not self.is_day_off(day):
            periods = tuple(
                (self._local(day, start), self._local(day, end)) for start, end in self.weekly[day.weekday()]
            )
        if len(self._day_cache) > 4096:
            self._day_cache.clear()
        self._day_cache[day] = periods
        return periods

    def _periods_from(self, instant: datetime):
        """Working periods (UTC) that end after `instant`, in order, never overlapping (clipped if a DST change
        would make two touch out of order)."""
        day = instant.astimezone(self.zone).date() - timedelta(days=1)
        last_end = None
        for _ in range(MAX_DAYS_SCANNED):
            for start, end in self.day_periods(day):
                if last_end is not None and start < last_end:
                    start = last_end
                if end <= start:
                    continue
                last_end = end
                if end > instant:
                    yield start, end
            day += timedelta(days=1)
        raise ValueError(f"no working hours in the {MAX_DAYS_SCANNED} days after {instant.isoformat()}")

    # --- the API -------------------------------------------------------------------------------------------------

    @staticmethod
    def _utc(moment: datetime, name: str) -> datetime:
        if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{name} must be an aware datetime (with a time zone).")
        return moment.astimezone(UTC)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The due time of a clock started at `start` that runs `duration` of business time."""
        if duration < timedelta(0):
            raise ValueError("duration must not be negative.")
        at = self._utc(start, "start")
        remaining = duration
        for period_start, period_end in self._periods_from(at):
            begin = max(period_start, at)
            available = period_end - begin
            if remaining <= available:
                if begin == at and remaining == timedelta(0):
                    return start.astimezone(self.zone)
                return (begin + remaining).astimezone(self.zone)
            remaining -= available
        raise AssertionError("unreachable")  # pragma: no cover - _periods_from raises first

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from `start` to `end` (negative when `end` is before `start`)."""
        begin, finish = self._utc(start, "start"), self._utc(end, "end")
        if finish < begin:
            return -self.between(end, start)
        total = timedelta(0)
        if finish == begin:
            return total
        for period_start, period_end in self._periods_from(begin):
            if period_start >= finish:
                break
            total += min(period_end, finish) - max(period_start, begin)
        return total

    def next_opening(self, moment: datetime) -> datetime:
        """`moment` itself inside working hours, else the start of the next working period (calendar's zone)."""
        return self.add(moment, timedelta(0))

    def is_working(self, moment: datetime) -> bool:
        at = self._utc(moment, "moment")
        start, _end = next(self._periods_from(at))
        return start <= at


DEFAULT_SPEC = {
    "time_zone": "UTC",
    "weekly_hours": {day: [["09:00", "17:00"]] for day in WEEKDAYS[:5]} | {"sat": [], "sun": []},
    "holidays": [],
}
DEFAULT_REASON = "no territory calendar: the default 09:00-17:00 Monday to Friday (UTC)"


def default_calendar() -> WorkCalendar:
    """09:00-17:00 Monday to Friday in UTC, for leads without a territory calendar."""
    return WorkCalendar.from_spec(DEFAULT_SPEC)
