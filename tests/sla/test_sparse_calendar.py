"""A territory calendar too sparse to schedule a clock never stops a lead being routed: the clock still starts, the
steps the calendar cannot reach are counted on the default calendar, and the clock's note says so."""

from __future__ import annotations

import datetime as dt

import pytest

from sla.models import SlaClock, SlaPolicy
from sla.services import clock_start
from tests.factories import LeadFactory
from tests.sla.conftest import berlin, new_sql

pytestmark = pytest.mark.django_db

UTC = dt.UTC
MONDAY_10 = berlin(2026, 11, 30, 10, 0)  # 09:00 UTC, the opening of the sparse calendar's one hour
ONE_HOUR_ON_MONDAYS = {"time_zone": "UTC", "weekly_hours": {"mon": [["09:00", "10:00"]]}}
# ... and from January 2027 every Monday for twenty years is a day off: five working hours are left (the Mondays of
# December 2026), in the twenty years a calendar looks ahead.
FIVE_HOURS_EVER = {
    **ONE_HOUR_ON_MONDAYS,
    "holidays": [(dt.date(2027, 1, 4) + dt.timedelta(weeks=week)).isoformat() for week in range(21 * 53)],
}
FALLBACK = "too few working hours"


@pytest.fixture
def long_review(policies):
    """A business-time policy with a long target whose last step comes at ten times the target."""
    return SlaPolicy.objects.create(
        key="long-review",
        name="Long review",
        starts_on="assigned",
        stops_on="first_activity",
        target=dt.timedelta(days=30),
        business_time=True,
        ladder=[{"at": 1, "action": "notify_owner"}, {"at": 10, "action": "notify_manager"}],
    )


def clock_of(lead, key):
    return SlaClock.objects.get(lead=lead, policy__key=key)


def test_routing_through_a_calendar_that_cannot_reach_any_step_starts_the_clocks_on_the_default_calendar(
    germany, long_review, route
):
    germany.calendar = FIVE_HOURS_EVER
    germany.save(update_fields=["calendar"])
    lead = new_sql(at=MONDAY_10)

    route(lead, MONDAY_10)

    lead.refresh_from_db()
    assert lead.owner is not None
    review = clock_of(lead, "long-review")
    # 720 business hours of the default 09:00-17:00 week from Monday 09:00 UTC: 18 weeks, due on a Friday's close
    assert (review.state, review.due_at) == ("open", dt.datetime(2027, 4, 2, 17, 0, tzinfo=UTC))
    # ten times the target, 7,200 hours: 180 weeks
    assert review.schedule[-1] == ["2030-05-10T17:00:00+00:00", "notify_manager"]
    assert "calendar of territory Germany" in review.calendar_note
    assert FALLBACK in review.calendar_note
    assert "default 09:00-17:00 Monday to Friday (UTC)" in review.calendar_note
    # the accept / reject clock (16 business hours) cannot be reached either, and starts the same way
    accept = clock_of(lead, "sdr-accept-reject")
    assert accept.due_at == dt.datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # Monday 8 h, Tuesday 8 h
    assert FALLBACK in accept.calendar_note


def test_steps_the_calendar_reaches_stay_on_it_and_the_later_ones_continue_on_the_default_calendar(
    germany, long_review, route
):
    long_review.target = dt.timedelta(hours=200)
    long_review.save(update_fields=["target"])
    germany.calendar = ONE_HOUR_ON_MONDAYS
    germany.save(update_fields=["calendar"])
    lead = new_sql(at=MONDAY_10)

    route(lead, MONDAY_10)

    review = clock_of(lead, "long-review")
    # 200 Mondays of one hour each: due at the close of the 200th, 199 weeks after the first
    assert review.due_at == dt.datetime(2030, 9, 23, 10, 0, tzinfo=UTC)
    # 2,000 hours are more than twenty years of Mondays hold: the 1,800 hours after the breach are counted on the
    # default calendar from there, 45 weeks of 40 hours
    assert [at for at, _action in review.schedule] == [
        "2030-09-23T10:00:00+00:00",
        "2030-09-23T10:00:00+00:00",
        "2031-08-04T10:00:00+00:00",
    ]
    assert "calendar of territory Germany" in review.calendar_note
    assert "10x" in review.calendar_note and FALLBACK in review.calendar_note
    # a clock the calendar can schedule says nothing of a fallback
    accept = clock_of(lead, "sdr-accept-reject")
    assert accept.due_at == dt.datetime(2027, 3, 15, 10, 0, tzinfo=UTC)  # 16 Mondays
    assert accept.calendar_note == "calendar of territory Germany"


def test_a_clock_started_directly_on_a_calendar_that_cannot_reach_it_falls_back_too(long_review, sdr):
    from sla.calendars import WorkCalendar

    lead = LeadFactory(owner=sdr, stage="sql")
    clock = clock_start(
        lead=lead,
        policy=long_review,
        owner_id=sdr.pk,
        started_at=dt.datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
        calendar=WorkCalendar.from_spec(FIVE_HOURS_EVER),
        calendar_note="calendar of territory Sparse",
    )

    assert clock.due_at == dt.datetime(2027, 4, 2, 17, 0, tzinfo=UTC)
    assert clock.calendar_note.startswith("calendar of territory Sparse")
    assert FALLBACK in clock.calendar_note
