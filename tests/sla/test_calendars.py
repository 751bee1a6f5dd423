"""The business-time calendar: hand-written cases (expected values worked out by hand) and properties."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla.calendars import CalendarSpecError, WorkCalendar, calendar_spec_problems, default_calendar

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
SYDNEY = ZoneInfo("Australia/Sydney")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
LONDON = ZoneInfo("Europe/London")
WEEK = ("mon", "tue", "wed", "thu", "fri")


def weekdays(zone="Europe/Berlin", hours=(("09:00", "17:00"),), **extra):
    spec = {
        "time_zone": zone,
        "weekly_hours": {day: [list(span) for span in hours] for day in WEEK} | {"sat": [], "sun": []},
    }
    return WorkCalendar.from_spec(spec | extra)


def minutes(n):
    return timedelta(minutes=n)


def hours(n):
    return timedelta(hours=n)


# --- hand-written cases -----------------------------------------------------------------------------------------


def test_friday_evening_clock_runs_over_the_weekend_to_monday_morning():
    calendar = weekdays(hours=(("09:00", "18:00"),))
    due = calendar.add(datetime(2026, 11, 27, 17, 55, tzinfo=BERLIN), minutes(15))
    assert due == datetime(2026, 11, 30, 9, 10, tzinfo=BERLIN)
    assert due.tzinfo == BERLIN


def test_a_duration_ending_at_the_close_is_due_at_the_close():
    calendar = weekdays()
    due = calendar.add(datetime(2026, 11, 27, 16, 0, tzinfo=BERLIN), hours(1))
    assert due == datetime(2026, 11, 27, 17, 0, tzinfo=BERLIN)


def test_a_clock_started_outside_hours_counts_from_the_next_opening():
    calendar = weekdays()
    assert calendar.add(datetime(2026, 11, 28, 11, 0, tzinfo=BERLIN), hours(2)) == datetime(
        2026, 11, 30, 11, 0, tzinfo=BERLIN
    )
    assert calendar.add(datetime(2026, 11, 30, 6, 0, tzinfo=BERLIN), minutes(30)) == datetime(
        2026, 11, 30, 9, 30, tzinfo=BERLIN
    )


def test_adding_zero_keeps_start_inside_hours_and_moves_to_the_next_opening_outside():
    calendar = weekdays()
    inside = datetime(2026, 11, 30, 10, 17, 3, tzinfo=BERLIN)
    assert calendar.add(inside, timedelta(0)) == inside
    assert calendar.add(datetime(2026, 11, 27, 17, 0, tzinfo=BERLIN), timedelta(0)) == datetime(
        2026, 11, 30, 9, 0, tzinfo=BERLIN
    )
    assert calendar.add(datetime(2026, 11, 29, 12, 0, tzinfo=BERLIN), timedelta(0)) == datetime(
        2026, 11, 30, 9, 0, tzinfo=BERLIN
    )


def test_a_lunch_break_is_skipped():
    calendar = weekdays(hours=(("09:00", "12:30"), ("13:30", "17:00")))
    start = datetime(2026, 11, 30, 12, 0, tzinfo=BERLIN)
    assert calendar.add(start, minutes(30)) == datetime(2026, 11, 30, 12, 30, tzinfo=BERLIN)
    assert calendar.add(start, minutes(31)) == datetime(2026, 11, 30, 13, 31, tzinfo=BERLIN)
    assert calendar.between(start, datetime(2026, 11, 30, 14, 0, tzinfo=BERLIN)) == minutes(60)
    # a working day is 7 hours: 2 business days from Monday 10:00 is Wednesday 10:00
    assert calendar.add(datetime(2026, 11, 30, 10, 0, tzinfo=BERLIN), hours(14)) == datetime(
        2026, 12, 2, 10, 0, tzinfo=BERLIN
    )


def test_a_clock_across_christmas_skips_the_public_holidays():
    calendar = weekdays(holidays_country="DE")
    # Thursday 24 Dec 2026 is a working day in Germany; 25 (Fri) and 26 (Sat) are holidays.
    start = datetime(2026, 12, 24, 16, 0, tzinfo=BERLIN)
    assert calendar.add(start, hours(2)) == datetime(2026, 12, 28, 10, 0, tzinfo=BERLIN)
    assert calendar.between(start, datetime(2026, 12, 28, 10, 0, tzinfo=BERLIN)) == hours(2)


def test_company_days_off_are_skipped():
    calendar = weekdays(holidays=["2026-12-24", "2026-12-25"])
    assert calendar.add(datetime(2026, 12, 23, 16, 0, tzinfo=BERLIN), hours(2)) == datetime(
        2026, 12, 28, 10, 0, tzinfo=BERLIN
    )


def test_regional_public_holidays_come_from_the_subdivision():
    # 6 January (Epiphany) is a holiday in Bavaria, not in Berlin.
    bavaria = weekdays(holidays_country="DE", holidays_subdivision="BY")
    berlin = weekdays(holidays_country="DE", holidays_subdivision="BE")
    start = datetime(2027, 1, 5, 16, 0, tzinfo=BERLIN)
    assert bavaria.add(start, hours(2)) == datetime(2027, 1, 7, 10, 0, tzinfo=BERLIN)
    assert berlin.add(start, hours(2)) == datetime(2027, 1, 6, 10, 0, tzinfo=BERLIN)


def test_a_clock_across_the_spring_dst_weekend_in_berlin_is_due_at_the_local_time():
    calendar = weekdays()
    # Friday 27 March 2026 16:00 CET, 2 business hours -> Monday 30 March 10:00 CEST (08:00 UTC, not 09:00).
    due = calendar.add(datetime(2026, 3, 27, 16, 0, tzinfo=BERLIN), hours(2))
    assert due == datetime(2026, 3, 30, 10, 0, tzinfo=BERLIN)
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def test_a_clock_across_the_autumn_dst_weekend_in_new_york_is_due_at_the_local_time():
    calendar = weekdays(zone="America/New_York")
    # Friday 30 Oct 2026 16:30 EDT, 1 business hour -> Monday 2 Nov 09:30 EST (14:30 UTC).
    due = calendar.add(datetime(2026, 10, 30, 16, 30, tzinfo=NEW_YORK), hours(1))
    assert due == datetime(2026, 11, 2, 9, 30, tzinfo=NEW_YORK)
    assert due.astimezone(UTC) == datetime(2026, 11, 2, 14, 30, tzinfo=UTC)


def test_a_round_the_clock_day_lasts_23_or_25_hours_on_a_dst_change():
    calendar = WorkCalendar.from_spec(
        {"time_zone": "Europe/Berlin", "weekly_hours": {day: [["00:00", "24:00"]] for day in WEEK + ("sat", "sun")}}
    )
    assert calendar.between(datetime(2026, 3, 29, tzinfo=BERLIN), datetime(2026, 3, 30, tzinfo=BERLIN)) == hours(23)
    assert calendar.between(datetime(2026, 10, 25, tzinfo=BERLIN), datetime(2026, 10, 26, tzinfo=BERLIN)) == hours(25)
    # 24 business hours from midnight on the short day end at 01:00 the next day
    assert calendar.add(datetime(2026, 3, 29, tzinfo=BERLIN), hours(24)) == datetime(2026, 3, 30, 1, 0, tzinfo=BERLIN)


def test_a_working_period_containing_the_change_lasts_what_it_really_lasts():
    calendar = WorkCalendar.from_spec({"time_zone": "America/New_York", "weekly_hours": {"sun": [["01:00", "04:00"]]}})
    # 8 March 2026: 02:00 EST jumps to 03:00 EDT -> 2 real hours; 1 Nov 2026: 02:00 EDT falls back -> 4 real hours.
    assert calendar.between(datetime(2026, 3, 8, tzinfo=NEW_YORK), datetime(2026, 3, 9, tzinfo=NEW_YORK)) == hours(2)
    assert calendar.between(datetime(2026, 11, 1, tzinfo=NEW_YORK), datetime(2026, 11, 2, tzinfo=NEW_YORK)) == hours(4)


@pytest.mark.parametrize(
    ("zone", "tz", "start", "duration", "due"),
    [
        # Tokyo, no DST: Friday 16:30 + 1h -> Monday 09:30
        ("Asia/Tokyo", TOKYO, datetime(2026, 11, 27, 16, 30), hours(1), datetime(2026, 11, 30, 9, 30)),
        # Sydney: DST starts Sunday 4 Oct 2026; Friday 16:00 AEST + 2h -> Monday 10:00 AEDT
        ("Australia/Sydney", SYDNEY, datetime(2026, 10, 2, 16, 0), hours(2), datetime(2026, 10, 5, 10, 0)),
        # Sao Paulo, no DST since 2019: Friday 16:45 + 30 min -> Monday 09:15
        ("America/Sao_Paulo", SAO_PAULO, datetime(2026, 11, 27, 16, 45), minutes(30), datetime(2026, 11, 30, 9, 15)),
        # London: BST ends Sunday 25 Oct 2026; Friday 16:00 BST + 3h -> Monday 11:00 GMT
        ("Europe/London", LONDON, datetime(2026, 10, 23, 16, 0), hours(3), datetime(2026, 10, 26, 11, 0)),
    ],
)
def test_time_zones_on_four_continents(zone, tz, start, duration, due):
    calendar = weekdays(zone=zone)
    assert calendar.add(start.replace(tzinfo=tz), duration) == due.replace(tzinfo=tz)


def test_start_in_another_time_zone_is_read_as_the_same_instant():
    calendar = weekdays(zone="Asia/Tokyo")
    start = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
    assert calendar.add(start, hours(1)) == datetime(2026, 11, 30, 10, 0, tzinfo=TOKYO)


def test_between_inside_one_period_and_backwards():
    calendar = weekdays()
    a, b = datetime(2026, 11, 30, 10, 0, tzinfo=BERLIN), datetime(2026, 12, 1, 11, 0, tzinfo=BERLIN)
    assert calendar.between(a, b) == hours(9)
    assert calendar.between(b, a) == -hours(9)
    assert calendar.between(a, a) == timedelta(0)


def test_midnight_end_written_as_24_00():
    calendar = WorkCalendar.from_spec({"time_zone": "UTC", "weekly_hours": {"mon": [["22:00", "24:00"]]}})
    start = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert calendar.add(start, hours(1)) == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    assert calendar.add(start, hours(2)) == datetime(2026, 12, 7, 23, 0, tzinfo=UTC)


def test_default_calendar_is_nine_to_five_weekdays_in_utc():
    calendar = default_calendar()
    assert calendar.add(datetime(2026, 11, 27, 16, 0, tzinfo=UTC), hours(2)) == datetime(
        2026, 11, 30, 10, 0, tzinfo=UTC
    )


def test_a_long_clock_is_fast():
    calendar = weekdays(holidays_country="DE")
    start = datetime(2026, 1, 5, 9, 0, tzinfo=BERLIN)
    due = calendar.add(start, hours(8 * 250))  # roughly a working year
    assert calendar.between(start, due) == hours(8 * 250)


def test_naive_datetimes_and_negative_durations_are_refused():
    calendar = weekdays()
    with pytest.raises(ValueError, match="aware"):
        calendar.add(datetime(2026, 11, 30, 10, 0), hours(1))
    with pytest.raises(ValueError, match="negative"):
        calendar.add(datetime(2026, 11, 30, 10, 0, tzinfo=UTC), -hours(1))


# --- validation -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"time_zone": "Mars/Olympus", "weekly_hours": {"mon": [["09:00", "17:00"]]}}, "time_zone"),
        ({"time_zone": "UTC", "weekly_hours": {"mon": [["9h", "17:00"]]}}, "weekly_hours.mon"),
        ({"time_zone": "UTC", "weekly_hours": {"mon": [["09:00", "25:00"]]}}, "weekly_hours.mon"),
        ({"time_zone": "UTC", "weekly_hours": {"mon": [["24:00", "24:00"]]}}, "weekly_hours.mon"),
        ({"time_zone": "UTC", "weekly_hours": {"mon": [["17:00", "09:00"]]}}, "weekly_hours.mon"),
        ({"time_zone": "UTC", "weekly_hours": {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}}, "weekly_hours.mon"),
        ({"time_zone": "UTC", "weekly_hours": {"mon": [["09:00", "17:00"]]}, "holidays": ["2026-13-01"]}, "holidays"),
        ({"time_zone": "UTC", "weekly_hours": {"mon": [["09:00", "17:00"]]}, "holidays": ["25.12.2026"]}, "holidays"),
        ({"time_zone": "UTC", "weekly_hours": {"mon": []}}, "weekly_hours"),
        ({"time_zone": "UTC", "weekly_hours": {}}, "weekly_hours"),
        (
            {"time_zone": "UTC", "weekly_hours": {"mon": [["09:00", "17:00"]]}, "holidays_country": "XX"},
            "holidays_country",
        ),
        (
            {
                "time_zone": "UTC",
                "weekly_hours": {"mon": [["09:00", "17:00"]]},
                "holidays_country": "DE",
                "holidays_subdivision": "ZZ",
            },
            "holidays_subdivision",
        ),
        ({"time_zone": "UTC", "weekly_hours": {"monday": [["09:00", "17:00"]]}}, "weekly_hours.monday"),
    ],
)
def test_bad_specs_are_refused_on_their_field(spec, field):
    with pytest.raises(CalendarSpecError) as refused:
        WorkCalendar.from_spec(spec)
    assert isinstance(refused.value, ValueError)
    assert field in refused.value.problems
    assert field in calendar_spec_problems(spec)


def test_touching_periods_are_accepted_and_merged():
    calendar = WorkCalendar.from_spec(
        {"time_zone": "UTC", "weekly_hours": {"mon": [["12:00", "17:00"], ["09:00", "12:00"]]}}
    )
    assert calendar.weekly[0] == ((9 * 3600, 17 * 3600),)


# --- properties -------------------------------------------------------------------------------------------------

ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "America/Sao_Paulo", "UTC"]
SPECS = [
    {"weekly_hours": {day: [["09:00", "17:00"]] for day in WEEK}},
    {"weekly_hours": {day: [["09:00", "12:30"], ["13:30", "17:00"]] for day in WEEK}, "holidays_country": "DE"},
    {"weekly_hours": {day: [["00:00", "24:00"]] for day in WEEK + ("sat", "sun")}},
    {"weekly_hours": {"sun": [["01:00", "04:00"]], "wed": [["22:00", "24:00"]]}, "holidays": ["2026-03-08"]},
    {"weekly_hours": {day: [["02:00", "03:30"], ["08:00", "20:00"]] for day in WEEK}, "holidays_country": "US"},
]
CALENDARS = [WorkCalendar.from_spec(spec | {"time_zone": zone}) for spec in SPECS for zone in ZONES]

instants = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31)).map(
    lambda naive: naive.replace(tzinfo=UTC)
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CALENDARS), instants, durations)
def test_due_is_never_before_start_and_between_gives_the_duration_back(calendar, start, duration):
    due = calendar.add(start, duration)
    assert due >= start
    assert calendar.between(start, due) == duration


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CALENDARS), instants, durations, durations)
def test_due_is_monotonic_in_the_duration(calendar, start, d1, d2):
    short, long = sorted((d1, d2))
    assert calendar.add(start, short) <= calendar.add(start, long)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CALENDARS), instants, instants, instants)
def test_between_adds_up(calendar, a, b, c):
    a, b, c = sorted((a, b, c))
    assert calendar.between(a, b) + calendar.between(b, c) == calendar.between(a, c)
    assert calendar.between(a, b) >= timedelta(0)


def test_times_and_days_off_may_also_be_python_objects():
    from datetime import date, time

    calendar = WorkCalendar.from_spec(
        {
            "time_zone": "Europe/Berlin",
            "weekly_hours": {day: [[time(9, 0), time(17, 0)]] for day in WEEK},
            "holidays": [date(2026, 12, 24), "2026-12-25"],
        }
    )
    assert calendar.add(datetime(2026, 12, 23, 16, 0, tzinfo=BERLIN), hours(2)) == datetime(
        2026, 12, 28, 10, 0, tzinfo=BERLIN
    )


def test_is_working_and_next_opening():
    calendar = weekdays(hours=(("09:00", "12:30"), ("13:30", "17:00")))
    assert calendar.is_working(datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN))
    assert not calendar.is_working(datetime(2026, 11, 30, 12, 30, tzinfo=BERLIN))
    assert calendar.next_opening(datetime(2026, 11, 30, 12, 45, tzinfo=BERLIN)) == datetime(
        2026, 11, 30, 13, 30, tzinfo=BERLIN
    )
