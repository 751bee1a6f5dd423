"""The qualification outcome (a pure rule) and what it does to the lead: a qualified call opens the opportunity (the
lead moves to Opportunity), one that is not leaves the lead accepted or sends it to nurture with what was missing."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from leadops.models import StageTransition
from leadops.rules import Stage
from playbooks import rules, services
from tests.playbooks import calls_world
from tests.playbooks.calls_world import NOW, call_input

CHAMP = [
    rules.CriterionFacts("challenges", "Challenges"),
    rules.CriterionFacts("authority", "Authority"),
    rules.CriterionFacts("money", "Money"),
    rules.CriterionFacts("prioritization", "Prioritization", required=False),
]

playbook, sal = calls_world.playbook, calls_world.sal  # the shared fixtures


@pytest.mark.parametrize(
    ("answers", "qualified", "missing", "first_reason"),
    [
        (
            {"challenges": "met", "authority": "met", "money": "met", "prioritization": "unknown"},
            True,
            (),
            "qualified: every required criterion met",
        ),
        (
            {"challenges": "met", "authority": "partial", "money": "not_met", "prioritization": "met"},
            False,
            ("authority", "money"),
            "not qualified: missing Authority, Money",
        ),
        (
            {"challenges": "met", "authority": "met"},
            False,
            ("money",),
            "not qualified: missing Money",
        ),
    ],
)
def test_qualified_only_when_every_required_criterion_is_met(answers, qualified, missing, first_reason):
    outcome = rules.qualification_outcome(CHAMP, answers)
    assert (outcome.qualified, outcome.missing, outcome.reasons[0]) == (qualified, missing, first_reason)


def test_outcome_says_each_criterion_in_words():
    outcome = rules.qualification_outcome(
        CHAMP, {"challenges": "met", "authority": "partial", "money": "met", "prioritization": "not_met"}
    )
    assert outcome.reasons == (
        "not qualified: missing Authority",
        "Challenges: met",
        "Authority: partial (required)",
        "Money: met",
        "Prioritization: not met (optional)",
    )


def test_a_template_without_required_criteria_never_qualifies():
    outcome = rules.qualification_outcome([rules.CriterionFacts("need", "Need", required=False)], {"need": "met"})
    assert outcome.qualified is False


def _log(sal, ae, template, **changes):
    return services.call_log(
        lead=sal, by=ae, template=template, call=call_input(next_step_owner_id=ae.pk, **changes), now=NOW
    )


def test_qualified_call_opens_the_opportunity_and_moves_the_lead(sal, ae, playbook):
    call = _log(sal, ae, playbook["champ"])
    assert (call.outcome, call.missing) == ("qualified", [])
    opportunity = services.call_opportunity_open(
        call=call, by=ae, amount="24000", expected_close=date(2027, 1, 31), now=NOW
    )
    sal.refresh_from_db()
    call.refresh_from_db()
    assert (sal.stage, opportunity.amount, opportunity.expected_close, opportunity.owner) == (
        Stage.OPPORTUNITY,
        24000,
        date(2027, 1, 31),
        ae,
    )
    assert call.opportunity == opportunity
    assert StageTransition.objects.filter(lead=sal, to_stage=Stage.OPPORTUNITY, by_user=ae).count() == 1


def test_opportunity_from_a_call_needs_an_amount_and_an_expected_close(sal, ae, playbook):
    call = _log(sal, ae, playbook["champ"])
    with pytest.raises(ValidationError) as error:
        services.call_opportunity_open(call=call, by=ae, amount="lots", expected_close="", now=NOW)
    assert set(error.value.message_dict) == {"amount", "expected_close"}
    sal.refresh_from_db()
    assert sal.stage == Stage.ACCEPTED


def test_unqualified_call_leaves_the_lead_accepted_and_records_what_is_missing(sal, ae, playbook):
    answers = {"challenges": "met", "authority": "met", "money": "partial", "prioritization": "unknown"}
    call = _log(sal, ae, playbook["champ"], answers=answers)
    sal.refresh_from_db()
    assert (sal.stage, call.outcome, call.missing) == (Stage.ACCEPTED, "not_qualified", ["money", "prioritization"])
    assert call.outcome_reason.startswith("not qualified: missing Money, Prioritization")


def test_unqualified_call_cannot_open_the_opportunity(sal, ae, playbook):
    call = _log(
        sal,
        ae,
        playbook["champ"],
        answers={"challenges": "met", "authority": "met", "money": "not_met", "prioritization": "met"},
    )
    with pytest.raises(PermissionDenied, match="did not qualify"):
        services.call_opportunity_open(call=call, by=ae, amount="1000", expected_close=date(2027, 1, 31), now=NOW)


def test_unqualified_call_sends_the_lead_to_nurture_with_the_missing_criteria(sal, ae, playbook):
    answers = {"challenges": "met", "authority": "not_met", "money": "met", "prioritization": "met"}
    call = _log(sal, ae, playbook["champ"], answers=answers)
    services.call_nurture(call=call, by=ae, note="CFO not involved yet", now=NOW)
    sal.refresh_from_db()
    assert sal.stage == Stage.NURTURE
    steps = list(
        StageTransition.objects.filter(lead=sal).order_by("pk").values_list("from_stage", "to_stage", "reason")
    )
    reason = "discovery call 2026-11-18: not qualified, missing Authority: CFO not involved yet"
    assert steps == [(Stage.ACCEPTED, Stage.REJECTED, reason), (Stage.REJECTED, Stage.NURTURE, reason)]


def test_a_qualified_call_does_not_send_the_lead_to_nurture(sal, ae, playbook):
    call = _log(sal, ae, playbook["champ"])
    with pytest.raises(PermissionDenied, match="open the opportunity instead"):
        services.call_nurture(call=call, by=ae, now=NOW)
