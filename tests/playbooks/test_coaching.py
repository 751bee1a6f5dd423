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
from playbooks.models import CoachingTargets

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


# --- from logged calls, through the selectors, the page and the API ------------------------------------------------


@pytest.fixture
def shipped_playbook(db):
    import importlib

    from django.apps import apps

    from playbooks.models import QualificationTemplate

    if not QualificationTemplate.objects.exists():
        importlib.import_module("playbooks.migrations.0002_default_templates").forwards(apps, None)
    return QualificationTemplate.objects.get(key="champ", active=True)


def log_call(template, ae, minutes, questions, decision_maker, next_step, *unresolved, resolved=()):
    from playbooks.models import DiscoveryCall, Objection, ObjectionRaised
    from tests.factories import LeadFactory

    lead = LeadFactory(stage="accepted", owner=ae)
    call = DiscoveryCall.objects.create(
        lead=lead,
        ae=ae,
        template=template,
        occurred_at=dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC),
        duration_minutes=minutes,
        questions_asked=questions,
        decision_maker_present=decision_maker,
        next_step="demo" if next_step else "none",
        no_next_step_reason="" if next_step else "they went quiet",
        outcome="not_qualified",
        created_at=dt.datetime(2026, 11, 2, 11, tzinfo=dt.UTC),
    )
    for key, is_resolved in [(key, False) for key in unresolved] + [(key, True) for key in resolved]:
        ObjectionRaised.objects.create(call=call, objection=Objection.objects.get(key=key), resolved=is_resolved)
    return call


@pytest.fixture
def logged_calls(shipped_playbook, ae, other_sdr):
    """The AE's three calls (one flagged) and one call by an AE of another team."""
    from leadops import roles
    from leadops.models import RepProfile

    other_ae = other_sdr  # another team's rep, made an AE for this test
    other_ae.groups.clear()
    from django.contrib.auth.models import Group

    other_ae.groups.add(Group.objects.get(name=roles.AE))
    assert RepProfile.objects.get(user=other_ae).team.name == "APAC"
    return {
        "ours": [
            log_call(shipped_playbook, ae, 25, 8, True, True, "pricing", resolved=("timeline",)),
            log_call(shipped_playbook, ae, 40, 5, False, False, "pricing"),
            log_call(shipped_playbook, ae, 22, 7, True, True),
        ],
        "theirs": log_call(shipped_playbook, other_ae, 10, 2, False, False, "timeline"),
    }


def test_a_manager_sees_the_teams_figures_from_logged_calls_and_not_another_teams(client, manager, logged_calls):
    client.force_login(manager)
    answer = client.get("/api/playbooks/coaching/", {"since": "2026-11-01T00:00:00Z", "until": "2026-11-30T00:00:00Z"})
    assert answer.status_code == 200
    body = answer.json()
    assert [team["team"] for team in body["teams"]] == ["EMEA Mid-Market"]
    team = body["teams"][0]
    # 25 and 22 min in range of 3 calls; (8 + 5 + 7) / 3 = 6.67 questions; next step 2/3; decision-maker 2/3;
    # pricing unresolved twice (timeline was resolved, so it does not count).
    assert (team["calls"], team["length_in_range_pct"], team["average_questions"]) == (3, 66.7, 6.7)
    assert (team["next_step_pct"], team["decision_maker_pct"]) == (66.7, 66.7)
    assert team["unresolved_objections"] == [{"objection": "pricing", "count": 2}]
    assert [ae["ae"] for ae in team["aes"]] == ["ae"]
    assert body["flagged_total"] == 1
    assert body["flagged_calls"][0]["misses"] == [
        "40 min long (target 20-30 min)",
        "5 questions asked (target 7+)",
        "no next step documented",
    ]


def test_an_ae_sees_only_their_own_calls_on_the_page(client, ae, logged_calls):
    client.force_login(ae)
    page = client.get("/playbooks/coaching/", {"days": 3650})
    assert page.status_code == 200
    report = page.context["report"]
    assert report.total.calls == 3
    assert {item["call"].call_id for item in report.flagged} == {logged_calls["ours"][1].pk}
    assert b"Calls that missed a target" in page.content


def test_a_teams_own_targets_change_its_figures(client, manager, team, logged_calls):
    CoachingTargets.objects.create(team=team, call_minutes_min=20, call_minutes_max=45, questions_min=5)
    client.force_login(manager)
    body = client.get("/api/playbooks/coaching/", {"since": "2026-11-01T00:00:00Z"}).json()
    assert body["teams"][0]["length_in_range_pct"] == 100.0
    assert body["teams"][0]["targets"]["call_minutes_max"] == 45
    assert body["flagged_calls"][0]["misses"] == ["no next step documented"]
