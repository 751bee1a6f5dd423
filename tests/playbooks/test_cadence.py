"""Next-best-action rules, pure: bands, segment cadence in business days, the 48-hour escalation, validation."""

from __future__ import annotations

import copy
import datetime as dt
import importlib

import pytest

from playbooks.cadence import (
    DEFAULT_RULES,
    CadenceRulesError,
    LeadFacts,
    StepRecord,
    add_business_days,
    next_action,
    rules_from_data,
    rules_problems,
    stops_sequence,
)
from sla.calendars import WorkCalendar, default_calendar

UTC = dt.UTC
RULES = rules_from_data(DEFAULT_RULES)
OFFICE = default_calendar()  # 09:00-17:00 Monday to Friday, UTC
FRIDAY = dt.datetime(2026, 3, 6, 10, 0, tzinfo=UTC)


def at(day, hour, minute=0):
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def facts(score, segment="smb", started_at=FRIDAY, stopped_by=""):
    return LeadFacts(lead_id=1, score=score, segment=segment, started_at=started_at, stopped_by=stopped_by)


def done(key, kind, closed_at):
    return StepRecord(step_key=key, kind=kind, state="done", due_at=closed_at, closed_at=closed_at)


@pytest.mark.parametrize(
    ("score", "band", "first_kind"),
    [
        (100, "hot", "call"),
        (80, "hot", "call"),
        (79, "warm", "email"),
        (50, "warm", "email"),
        (49, "cold", "content"),
        (0, "cold", "content"),
        (None, "cold", "content"),
    ],
)
def test_the_score_band_decides_the_first_touch(score, band, first_kind):
    decision = next_action(facts=facts(score), history=[], rules=RULES, calendar=OFFICE)
    assert decision.action.step_key == f"{band}:0:{first_kind}"
    assert decision.action.due_at == FRIDAY


def test_a_hot_lead_is_called_now_and_invited_to_a_demo():
    decision = next_action(facts=facts(91), history=[], rules=RULES, calendar=OFFICE)
    assert decision.action.label == "Call now and invite to a demo"
    assert decision.action.reason.startswith("score 91 (80-100: hot): step 1 of 1, call now and invite to a demo; now")


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (FRIDAY, 3, at(11, 10)),  # Fri + 3 business days skips the weekend: Wed
        (FRIDAY, 5, at(13, 10)),
        (FRIDAY, 7, at(17, 10)),
        (FRIDAY, 0, FRIDAY),
        (at(7, 12), 0, at(9, 9)),  # Saturday noon: the next opening, Monday 09:00
        (at(6, 18), 1, at(10, 9)),  # Fri 18:00 + 1 day is Mon 18:00, after closing: Tuesday 09:00
    ],
)
def test_business_days_skip_weekends(start, days, due):
    assert add_business_days(OFFICE, start, days) == due


def test_business_days_skip_public_holidays():
    berlin = WorkCalendar.from_spec(
        {
            "time_zone": "Europe/Berlin",
            "weekly_hours": {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
            "holidays_country": "DE",
        }
    )
    # Thursday 2026-04-02 10:00 Berlin + 1 business day: Good Friday (04-03) and Easter Monday (04-06) are holidays.
    start = dt.datetime(2026, 4, 2, 8, 0, tzinfo=UTC)
    assert add_business_days(berlin, start, 1) == dt.datetime(2026, 4, 7, 8, 0, tzinfo=UTC)


def test_a_warm_sequence_e_mails_escalates_to_a_call_after_48_hours_then_touches_on_linkedin_on_cadence():
    lead = facts(65, "smb")
    first = next_action(facts=lead, history=[], rules=RULES, calendar=OFFICE).action
    assert (first.step_key, first.kind, first.due_at) == ("warm:0:email", "email", FRIDAY)

    history = [done("warm:0:email", "email", at(6, 11))]
    escalation = next_action(facts=lead, history=history, rules=RULES, calendar=OFFICE).action
    # Fri 11:00 + 48 h = Sun 11:00, outside working hours: Monday 09:00.
    assert (escalation.step_key, escalation.kind, escalation.due_at) == ("warm:0:email:no-reply", "call", at(9, 9))
    assert "no reply to the e-mail sent Fri 2026-03-06 11:00 within 48 hours" in escalation.reason

    history.append(done("warm:0:email:no-reply", "call", at(9, 10)))
    linkedin = next_action(facts=lead, history=history, rules=RULES, calendar=OFFICE).action
    # SMB cadence 3-5 business days after the call on Monday: Thursday, at the latest the Monday after.
    assert (linkedin.step_key, linkedin.kind, linkedin.due_at) == ("warm:1:linkedin", "linkedin", at(12, 10))
    assert "SMB cadence every 3-5 business days after the last touch on Mon 2026-03-09" in linkedin.reason
    assert "at the latest Mon 2026-03-16" in linkedin.reason

    history.append(done("warm:1:linkedin", "linkedin", at(12, 11)))
    over = next_action(facts=lead, history=history, rules=RULES, calendar=OFFICE)
    assert over.action is None and over.finished


@pytest.mark.parametrize(
    ("segment", "due"), [("smb", at(11, 10)), ("mid_market", at(13, 10)), ("enterprise", at(17, 10))]
)
def test_the_segment_sets_the_cadence(segment, due):
    history = [done("warm:0:email", "email", FRIDAY), done("warm:0:email:no-reply", "call", FRIDAY)]
    action = next_action(facts=facts(60, segment), history=history, rules=RULES, calendar=OFFICE).action
    assert action.due_at == due


def test_a_cold_lead_gets_a_two_week_drip_then_a_rescore():
    lead = facts(20)
    history = [done("cold:0:content", "content", FRIDAY)]
    second = next_action(facts=lead, history=history, rules=RULES, calendar=OFFICE).action
    assert (second.kind, second.due_at) == ("content", at(13, 10))
    history.append(done("cold:1:content", "content", at(13, 10)))
    rescore = next_action(facts=lead, history=history, rules=RULES, calendar=OFFICE).action
    assert (rescore.kind, rescore.due_at) == ("rescore", at(20, 10))  # ten business days after the first piece


def test_an_open_action_is_waited_for():
    history = [StepRecord("warm:0:email", "email", "open", FRIDAY)]
    decision = next_action(facts=facts(60), history=history, rules=RULES, calendar=OFFICE)
    assert decision.action is None and decision.waiting_on == "warm:0:email" and not decision.finished


def test_a_stopped_sequence_owes_nothing():
    decision = next_action(
        facts=facts(60, stopped_by="the lead replied on 2026-03-06"), history=[], rules=RULES, calendar=OFFICE
    )
    assert decision.action is None and decision.finished
    assert decision.reason == "Sequence stopped: the lead replied on 2026-03-06."


@pytest.mark.parametrize(
    ("kind", "outcome", "stops"),
    [
        ("email", "Replied", True),
        ("meeting", "Held", True),
        ("call", "Meeting booked", True),
        ("email", "Sent, no reply yet", False),
        ("call", "Connected", False),
    ],
)
def test_a_reply_or_a_meeting_stops_the_sequence(kind, outcome, stops):
    assert stops_sequence(kind=kind, outcome=outcome) is stops


def _broken(path, value):
    data = copy.deepcopy(DEFAULT_RULES)
    target = data
    *parents, last = path
    for key in parents:
        target = target[key]
    target[last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("bands", 0, "steps", 0, "kind"), "fax", "bands.0.steps.0.kind"),
        (("bands", 1, "steps", 1, "wait"), -1, "bands.1.steps.1.wait"),
        (("bands", 1, "steps", 1, "wait"), "soon", "bands.1.steps.1.wait"),
        (("bands", 0, "steps", 0, "label"), "", "bands.0.steps.0.label"),
        (("bands", 0, "min_score"), 85, "bands.0.min_score"),  # 80-84 in no band
        (("bands", 1, "max_score"), 85, "bands.0.min_score"),  # warm overlaps hot
        (("bands", 1, "name"), "hot", "bands.1.name"),
        (("bands", 0, "steps"), [], "bands.0.steps"),
        (("cadence_days", "smb"), [5, 3], "cadence_days.smb"),
        (("cadence_days", "smb"), [0, 3], "cadence_days.smb"),
        (("email_no_reply_hours",), 0, "email_no_reply_hours"),
    ],
)
def test_rules_that_cannot_be_used_are_refused_on_their_field(path, value, field):
    data = _broken(path, value)
    assert field in rules_problems(data)
    with pytest.raises(CadenceRulesError):
        rules_from_data(data)


def test_the_shipped_rules_are_valid_and_the_migration_ships_the_same():
    assert rules_problems(DEFAULT_RULES) == {}
    migration = importlib.import_module("playbooks.migrations.0003_coaching_and_next_actions")
    assert migration.DEFAULT_RULES == DEFAULT_RULES
