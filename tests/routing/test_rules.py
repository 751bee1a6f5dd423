"""The pure routing decision, step by step, with fair shares worked out by hand. No database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from routing import rules
from routing.rules import LeadFacts, NamedOwnerFacts, RepFacts, TerritoryFacts

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)  # a Friday
RECENT = NOW - dt.timedelta(days=2)


def lead(**kwargs) -> LeadFacts:
    values = {
        "lead_id": 1,
        "score": 80,
        "fit": 80,
        "temperature": "warm",
        "segment": "mid_market",
        "country": "Germany",
        "region": "EMEA",
        "industry": "Software",
        "employees": 250,
        "revenue": Decimal("20000000"),
        "last_signal_at": RECENT,
    }
    return LeadFacts(**{**values, **kwargs})


def rep(user_id, name, **kwargs) -> RepFacts:
    return RepFacts(user_id=user_id, name=name, **{"available_days": 20, **kwargs})


def territory(name="EMEA Mid-Market", priority=2, members=(), **kwargs) -> TerritoryFacts:
    return TerritoryFacts(
        territory_id=priority,
        name=name,
        priority=priority,
        members=tuple(members),
        overflow_owner_id=99,
        overflow_owner_name="Maria",
        **kwargs,
    )


def route(the_lead, territories, **kwargs):
    return rules.route(lead=the_lead, territories=territories, now=NOW, **kwargs)


# --- the whole path in words --------------------------------------------------------------------------------


def test_the_path_reads_as_the_design_says():
    ana = rep(5, "Ana", assigned=31, available_days=20)
    ben = rep(6, "Ben", assigned=37, available_days=20, weight=Decimal(1))
    emea = territory(members=[ana, ben], countries=("DE",), segments=("mid_market",))
    decision = route(lead(), [emea])
    # 69 leads with this one, weights equal and 20 days each: fair share 34.5 each; Ana is 3.5 below, Ben 2.5 above.
    assert decision.assignee_id == 5
    assert decision.queue == ""
    assert decision.path_text == (
        "named account? no -> intent 2 days ago -> territory EMEA Mid-Market (priority 2) -> ICP strong (fit 80) "
        "-> specialists -> Ana (31/80 this month, 3.5 below fair share of 34.5)"
    )
    assert decision.territory_id == emea.territory_id


# --- weighted round robin: fair shares computed by hand ----------------------------------------------------------


def _simulate(reps, n):
    """Route n leads one after the other, counting each assignment like the service does."""
    reps = list(reps)
    order = []
    for _ in range(n):
        chosen, _notes = rules.rep_choose(reps, hot=False)
        order.append(chosen.name)
        reps = [
            RepFacts(**{**r.__dict__, "assigned": r.assigned + 1}) if r.user_id == chosen.user_id else r for r in reps
        ]
    return order, {r.name: r.assigned for r in reps}


def test_weights_one_and_two_share_nine_leads_three_and_six():
    order, counts = _simulate([rep(1, "A", weight=Decimal(1)), rep(2, "B", weight=Decimal(2))], 9)
    assert counts == {"A": 3, "B": 6}
    # After each lead the shares are k/3 and 2k/3; the rep furthest below goes next, B first.
    assert order == ["B", "A", "B", "B", "A", "B", "B", "A", "B"]


def test_at_their_fair_shares_the_heavier_rep_takes_the_tenth_lead():
    # 10 leads with this one: shares 10/3 = 3.33 and 20/3 = 6.67; A is 0.33 below, B 0.67 below.
    chosen, notes = rules.rep_choose(
        [rep(1, "A", assigned=3, weight=Decimal(1)), rep(2, "B", assigned=6, weight=Decimal(2))], hot=False
    )
    assert chosen.name == "B"
    assert notes == ["B (6/80 this month, 0.7 below fair share of 6.7)"]


@pytest.mark.parametrize(
    ("a_days", "b_days", "a_assigned", "b_assigned", "expected"),
    [
        # B available 10 of A's 20 days: B's share is half of A's. 31 leads: A 20.67 (0.67 below), B 10.33 (0.33).
        (20, 10, 20, 10, "A"),
        # B back from vacation with nothing yet: 21 leads, shares 14 and 7; B is 7 below and goes next.
        (20, 10, 20, 0, "B"),
        # Same days, same weight: 31 leads, 15.5 each; B (10) is 5.5 below.
        (20, 20, 20, 10, "B"),
    ],
)
def test_fair_share_counts_only_the_days_a_rep_was_available(a_days, b_days, a_assigned, b_assigned, expected):
    reps = [
        rep(1, "A", available_days=a_days, assigned=a_assigned),
        rep(2, "B", available_days=b_days, assigned=b_assigned),
    ]
    chosen, _ = rules.rep_choose(reps, hot=False)
    assert chosen.name == expected


def test_a_rep_back_from_vacation_is_not_flooded():
    # Both had 5 leads in the first 5 days; B was then away 10 days while A took 10 more; B is back today (day 16).
    # Available days: A 16, B 6 (of 22). 21 leads: A 15.27 (0.27 below), B 5.73 (0.73 below) -> B; then 22 leads:
    # A 16 (1 below), B 6 (level) -> A; 23: A 16.73 (0.73), B 6.27 (0.27) -> A; 24: A 17.45 (0.45), B 6.55 (0.55)
    # -> B. Counting every day alike would hand B the next ten.
    order, counts = _simulate(
        [rep(1, "A", available_days=16, assigned=15), rep(2, "B", available_days=6, assigned=5)], 4
    )
    assert order == ["B", "A", "A", "B"]
    assert counts == {"A": 17, "B": 7}


def test_a_new_rep_starts_level_with_one_days_share():
    # C joined today (1 day) next to A (20 days, 20 leads): 21 leads, shares 20 and 1; C takes one, then A again.
    order, counts = _simulate([rep(1, "A", available_days=20, assigned=20), rep(3, "C", available_days=1)], 5)
    assert order == ["C", "A", "A", "A", "A"]
    assert counts == {"A": 24, "C": 1}


def test_ties_go_to_the_lowest_user_id():
    chosen, _ = rules.rep_choose([rep(7, "Zoe"), rep(3, "Yan")], hot=False)
    assert chosen.user_id == 3


@pytest.mark.parametrize(
    ("others", "expected_name"),
    [
        ({"assigned": 80, "capacity": 80}, "Far"),  # at capacity
        ({"out_of_office": True}, "Far"),
        ({"active": False}, "Far"),
    ],
)
def test_reps_at_capacity_out_of_office_or_inactive_are_passed_over(others, expected_name):
    # "Near" is furthest below its share (0 leads) but cannot take the lead.
    chosen, _ = rules.rep_choose([rep(1, "Near", **others), rep(2, "Far", assigned=5)], hot=False)
    assert chosen.name == expected_name


def test_a_hot_lead_prefers_a_rep_whose_working_hours_are_on():
    reps = [rep(1, "Asleep", working_now=False), rep(2, "Awake", assigned=3)]
    assert rules.rep_choose(reps, hot=False)[0].name == "Asleep"
    chosen, notes = rules.rep_choose(reps, hot=True)
    assert chosen.name == "Awake"
    assert notes[0] == "hot lead: reps working now preferred"


def test_a_hot_lead_with_nobody_working_now_still_goes_to_the_fairest_rep():
    reps = [rep(1, "A", working_now=False), rep(2, "B", assigned=3, working_now=False)]
    assert rules.rep_choose(reps, hot=True)[0].name == "A"


# --- each step's branches -----------------------------------------------------------------------------------------

OWNER = NamedOwnerFacts(user_id=42, name="Olga")
SPECIALIST = rep(5, "Ana")


@pytest.mark.parametrize(
    ("score", "owner", "expected_assignee", "first_step"),
    [
        (71, OWNER, 42, "named account: Olga owns it (score 71 above 70)"),
        (70, OWNER, 5, "named account of Olga, score 70 not above 70"),
        (90, NamedOwnerFacts(42, "Olga", out_of_office=True), 5, "named account of Olga, who is out of office"),
        (90, NamedOwnerFacts(42, "Olga", active=False), 5, "named account of Olga, who is inactive"),
    ],
)
def test_named_account_goes_to_its_owner_above_70_when_the_owner_can_take_it(
    score, owner, expected_assignee, first_step
):
    decision = route(lead(score=score, named_owner_id=42), [territory(members=[SPECIALIST])], named_owner=owner)
    assert decision.assignee_id == expected_assignee
    assert decision.path[0] == first_step


def test_named_account_bypasses_stale_intent_and_territories():
    decision = route(lead(named_owner_id=42, last_signal_at=None), [], named_owner=OWNER)
    assert (decision.assignee_id, decision.reason) == (42, "Named account owner Olga")


@pytest.mark.parametrize(
    ("last_signal_at", "queue", "step"),
    [
        (NOW - dt.timedelta(days=31), "nurture", "last intent or buying signal 31 days ago (over 30) -> nurture queue"),
        (None, "nurture", "no intent or buying signal on record -> nurture queue"),
        (NOW - dt.timedelta(days=30), "", "intent 30 days ago"),
    ],
)
def test_intent_older_than_30_days_goes_to_nurture(last_signal_at, queue, step):
    decision = route(lead(last_signal_at=last_signal_at), [territory(members=[SPECIALIST])])
    assert decision.queue == queue
    assert decision.path[1] == step
    assert (decision.assignee_id is None) == (queue != "")


def test_the_first_matching_territory_by_priority_wins_when_they_overlap():
    wide = territory("EMEA", priority=5, members=[rep(1, "Wide")], regions=("EMEA",))
    narrow = territory("DACH", priority=1, members=[rep(2, "Narrow")], countries=("DE", "AT", "CH"))
    decision = route(lead(), [wide, narrow])
    assert decision.assignee_id == 2
    assert "territory DACH (priority 1)" in decision.path


@pytest.mark.parametrize(
    ("criteria", "matches"),
    [
        ({"countries": ("DE",)}, True),
        ({"countries": ("FR",)}, False),
        ({"regions": ("emea",)}, True),
        ({"regions": ("APAC",)}, False),
        ({"industries": ("Software",)}, True),
        ({"industries": ("Retail",)}, False),
        ({"segments": ("enterprise",)}, False),
        ({"employees_min": 100, "employees_max": 999}, True),
        ({"employees_min": 251}, False),
        ({"revenue_max": Decimal("10000000")}, False),
        ({"active": False}, False),
    ],
)
def test_territory_criteria(criteria, matches):
    assert rules.territory_matches(territory(**criteria), lead()) is matches


def test_a_range_does_not_match_an_unknown_size():
    assert not rules.territory_matches(territory(employees_min=1), lead(employees=None))


def test_no_matching_territory_goes_to_the_default_overflow_with_that_reason():
    decision = route(lead(country="Japan"), [territory(countries=("DE",))], default_overflow_owner_id=7)
    assert (decision.queue, decision.queue_owner_id, decision.territory_id) == ("overflow", 7, None)
    assert decision.reason == "No territory matches this lead"


@pytest.mark.parametrize(
    ("fit", "members", "assignee", "queue", "step"),
    [
        (
            70,
            [rep(1, "Spec", role="specialist"), rep(2, "Gen", role="generalist")],
            1,
            "",
            "ICP strong (fit 70) -> specialists",
        ),
        (
            69,
            [rep(1, "Spec", role="specialist"), rep(2, "Gen", role="generalist")],
            2,
            "",
            "ICP weak (fit 69) -> generalists",
        ),
        (69, [rep(1, "Spec", role="specialist")], None, "generalist", "ICP weak (fit 69) -> generalist queue"),
        (
            90,
            [rep(3, "Sid", role="sdr"), rep(2, "Gen", role="generalist")],
            3,
            "",
            "ICP strong (fit 90) -> reps (no specialist)",
        ),
    ],
)
def test_icp_strength_picks_specialists_or_generalists(fit, members, assignee, queue, step):
    decision = route(lead(fit=fit), [territory(members=members)])
    assert (decision.assignee_id, decision.queue) == (assignee, queue)
    assert step in decision.path


@pytest.mark.parametrize(
    ("members", "why"),
    [
        ([], "no active member"),
        ([rep(1, "Ana", active=False)], "no active member"),
        ([rep(1, "Ana", assigned=80), rep(2, "Ben", assigned=50, capacity=50)], "every rep at capacity"),
        ([rep(1, "Ana", out_of_office=True)], "every member out of office"),
    ],
)
def test_nobody_to_take_it_overflows_to_the_managers_queue(members, why):
    decision = route(lead(), [territory(members=members)])
    assert (decision.assignee_id, decision.queue, decision.queue_owner_id) == (None, "overflow", 99)
    assert decision.path[-1] == f"{why} -> overflow queue (Maria)"
    assert decision.reason == f"EMEA Mid-Market: {why}"


# --- availability facts ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("member_since", "ooo_from", "ooo_until", "expected"),
    [
        (dt.date(2026, 1, 1), None, None, 20),
        (dt.date(2026, 11, 11), None, None, 10),
        (dt.date(2026, 1, 1), dt.date(2026, 11, 3), dt.date(2026, 11, 16), 6),  # two weeks away
        (dt.date(2026, 11, 20), None, None, 1),  # joined today
        (dt.date(2026, 1, 1), dt.date(2026, 10, 1), None, 1),  # away all month: counts as a day, never zero
    ],
)
def test_available_days_this_month(member_since, ooo_from, ooo_until, expected):
    days = rules.available_days(
        today=dt.date(2026, 11, 20), member_since=member_since, ooo_from=ooo_from, ooo_until=ooo_until
    )
    assert days == expected


BERLIN = {
    "time_zone": "Europe/Berlin",
    "weekly_hours": {"mon": [["09:00", "17:00"]], "fri": [["09:00", "13:00"]], "sun": []},
    "holidays_country": "DE",
    "holidays": ["2026-11-27"],
}


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC), True),  # Friday 11:00 in Berlin
        (dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC), False),  # Friday 13:00 in Berlin: closed
        (dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC), False),  # Sunday
        (dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC), False),  # company day off
        (dt.datetime(2026, 12, 25, 10, 0, tzinfo=dt.UTC), False),  # Christmas, a Friday
    ],
)
def test_working_hours_follow_the_territory_calendar(at, expected):
    assert rules.working_now(BERLIN, at) is expected


def test_no_calendar_means_always_working():
    assert rules.working_now({}, NOW) is True


# --- bad input -------------------------------------------------------------------------------------------------------


def _spec(**changes):
    return {"name": "EMEA", "priority": 1, "countries": ["DE"], "calendar": BERLIN, **changes}


def test_a_good_territory_has_no_problems():
    assert rules.territory_problems(_spec()).by_field == {}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"countries": ["XX"]}, "countries", "'XX' is not an ISO country code such as DE or US."),
        ({"countries": ["de"]}, "countries", "'de' is not an ISO country code such as DE or US."),
        ({"priority": 0}, "priority", "must be a whole number, 1 or more."),
        ({"name": " "}, "name", "A territory needs a name."),
        ({"segments": ["huge"]}, "segments", "'huge' is not one of smb, mid_market, enterprise."),
        ({"employees_min": 500, "employees_max": 100}, "employees_max", "must not be below employees min."),
        ({"revenue_min": -1}, "revenue_min", "must not be negative."),
        (
            {"calendar": {**BERLIN, "time_zone": "Mars/Olympus"}},
            "calendar.time_zone",
            "'Mars/Olympus' is not a time zone name such as Europe/Berlin.",
        ),
        (
            {"calendar": {**BERLIN, "weekly_hours": {"mon": [["17:00", "09:00"]]}}},
            "calendar.weekly_hours.mon",
            "17:00-09:00: a working period must end after it starts.",
        ),
        (
            {"calendar": {**BERLIN, "weekly_hours": {"mon": [["9", "17:00"]]}}},
            "calendar.weekly_hours.mon",
            "'9'-'17:00': times are written HH:MM, 00:00 to 24:00 (24:00 only as an end).",
        ),
        (
            {"calendar": {**BERLIN, "holidays_country": "XX"}},
            "calendar.holidays_country",
            "'XX' is not a country code with public holidays (e.g. DE, US).",
        ),
        (
            {"calendar": {**BERLIN, "holidays": ["24.12.2026"]}},
            "calendar.holidays",
            "'24.12.2026' is not a date (YYYY-MM-DD).",
        ),
    ],
)
def test_bad_territory_input_is_refused_on_its_field(changes, field, message):
    assert rules.territory_problems(_spec(**changes)).by_field == {field: [message]}


@pytest.mark.parametrize(
    ("member", "field", "message"),
    [
        ({"weight": 0}, "members.1.weight", "A weight must be above zero."),
        ({"weight": -1}, "members.1.weight", "A weight must be above zero."),
        ({"monthly_capacity": -5}, "members.1.monthly_capacity", "A capacity is a whole number, zero or more."),
        ({"role": "boss"}, "members.1.role", "must be one of sdr, ae, specialist, generalist."),
        ({"user_id": 1}, "members.1.user_id", "This person is listed twice (also member 0)."),
    ],
)
def test_bad_members_are_refused_on_their_field(member, field, message):
    members = [{"user_id": 1, "role": "sdr"}, {"user_id": 2, "role": "sdr", **member}]
    assert rules.member_problems(members).by_field == {field: [message]}


@pytest.mark.parametrize(
    ("text", "code"),
    [("Germany", "DE"), ("united states", "US"), ("United Kingdom", "GB"), ("DE", "DE"), ("Atlantis", "")],
)
def test_country_names_and_codes_map_to_iso_codes(text, code):
    assert rules.country_code(text) == code
