"""Coaching figures on a known set of calls, computed by hand (playbooks.coaching is pure: no database)."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from playbooks.coaching import (
    CallFacts,
    Rate,
    Targets,
    TargetsError,
    call_misses,
    coaching_by,
    coaching_summary,
    flagged_calls,
)

DAY = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def call(call_id, ae_id, minutes, questions, decision_maker, next_step, *objections):
    return CallFacts(
        call_id=call_id,
        ae_id=ae_id,
        occurred_at=DAY + dt.timedelta(days=call_id),
        duration_minutes=minutes,
        questions_asked=questions,
        decision_maker_present=decision_maker,
        next_step_documented=next_step,
        unresolved_objections=tuple(objections),
    )


# AE 1: four calls, AE 2: one call.
CALLS = [
    call(1, 1, 25, 8, True, True, "pricing"),
    call(2, 1, 35, 6, False, False, "pricing", "timeline"),
    call(3, 1, 20, 7, True, True),
    call(4, 1, 31, 9, True, True, "competitor_entrenchment"),
    call(5, 2, 18, 5, False, True, "timeline"),
]


def test_one_aes_figures_against_the_playbook_targets():
    summary = coaching_summary([c for c in CALLS if c.ae_id == 1], Targets())
    assert summary.calls == 4
    assert summary.length_in_range == Rate(2, 4)  # 25 and 20 min; 35 and 31 are outside 20-30
    assert summary.length_in_range.percent == 50.0
    assert summary.average_questions == Fraction(30, 4)  # (8 + 6 + 7 + 9) / 4 = 7.5
    assert summary.average_questions_display == 7.5
    assert summary.next_step == Rate(3, 4)
    assert summary.decision_maker == Rate(3, 4)  # 75% >= 70%: met
    assert summary.unresolved_objections == (("pricing", 2), ("competitor_entrenchment", 1), ("timeline", 1))
    assert summary.misses == (
        "50% (2/4) of calls 20-30 min",
        "next step documented on 75% (3/4) (target 100%)",
    )


def test_the_teams_figures_pool_every_call():
    summary = coaching_summary(CALLS, Targets())
    assert summary.length_in_range == Rate(2, 5)
    assert summary.average_questions == 7  # (30 + 5) / 5 = 7.0, exactly the target: met
    assert summary.next_step == Rate(4, 5)
    assert summary.decision_maker == Rate(3, 5)
    assert summary.unresolved_objections == (("pricing", 2), ("timeline", 2), ("competitor_entrenchment", 1))
    assert summary.misses == (
        "40% (2/5) of calls 20-30 min",
        "next step documented on 80% (4/5) (target 100%)",
        "decision-maker present on 60% (3/5) (target 70%)",
    )


def test_figures_per_ae_use_each_groups_targets():
    relaxed = Targets(call_minutes_min=15, call_minutes_max=40, questions_min=5, next_step_pct=75, decision_maker_pct=0)
    by_ae = coaching_by(CALLS, lambda ae_id: relaxed if ae_id == 2 else Targets(), key=lambda c: c.ae_id)
    assert set(by_ae) == {1, 2}
    assert by_ae[2].length_in_range == Rate(1, 1)
    assert by_ae[2].misses == ()
    assert by_ae[1].calls == 4


def test_calls_missing_a_per_call_target_are_flagged_newest_first_with_what_they_missed():
    flagged = flagged_calls(CALLS, lambda c: Targets())
    assert [(item.call.call_id, item.misses) for item in flagged] == [
        (5, ("18 min long (target 20-30 min)", "5 questions asked (target 7+)")),
        (4, ("31 min long (target 20-30 min)",)),
        (2, ("35 min long (target 20-30 min)", "6 questions asked (target 7+)", "no next step documented")),
    ]


def test_a_call_without_the_decision_maker_is_not_flagged_for_it_alone():
    assert call_misses(call(9, 1, 25, 7, False, True), Targets()) == ()


def test_no_calls_give_no_figures_and_no_misses():
    summary = coaching_summary([], Targets())
    assert summary.calls == 0
    assert summary.average_questions is None
    assert summary.next_step.percent is None
    assert str(summary.decision_maker) == "-"
    assert summary.misses == ()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"call_minutes_min": 31}, "call_minutes_max"),
        ({"call_minutes_min": 0}, "call_minutes_min"),
        ({"call_minutes_max": 241}, "call_minutes_max"),
        ({"questions_min": -1}, "questions_min"),
        ({"next_step_pct": 101}, "next_step_pct"),
        ({"decision_maker_pct": -5}, "decision_maker_pct"),
    ],
)
def test_targets_that_cannot_be_used_are_refused_on_their_field(values, field):
    with pytest.raises(TargetsError) as refused:
        Targets(**values)
    assert refused.value.field == field
