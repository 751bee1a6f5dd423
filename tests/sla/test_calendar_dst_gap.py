"""Two working periods that a spring-forward gap makes overlap in real time are counted once, not twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sla.calendars import WorkCalendar

# Berlin skips 02:00-03:00 on Sunday 29 March 2026. "02:30" does not exist: it is read with the winter offset
# (+01:00), i.e. 01:30 UTC, which is after the 03:00 (+02:00) = 01:00 UTC start of the second period.
# Real working time that night: 01:00 local (00:00 UTC) to 04:00 local (02:00 UTC), two hours, once.
GAP_NIGHT = WorkCalendar.from_spec(
    {"time_zone": "Europe/Berlin", "weekly_hours": {"sun": [["01:00", "02:30"], ["03:00", "04:00"]]}}
)


def test_overlapping_periods_on_the_spring_forward_night_are_counted_once():
    start = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    end = datetime(2026, 3, 29, 3, 0, tzinfo=UTC)
    assert GAP_NIGHT.between(start, end) == timedelta(hours=2)


def test_a_clock_over_the_overlap_is_due_when_the_real_time_has_passed():
    start = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert GAP_NIGHT.add(start, timedelta(hours=2)) == datetime(2026, 3, 29, 2, 0, tzinfo=UTC)
    assert GAP_NIGHT.add(start, timedelta(minutes=90)) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
