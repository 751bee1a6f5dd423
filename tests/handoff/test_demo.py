"""The demo world's handoff records: each rejection carries the code a rep would have picked, each lead handed to an
AE names the SDR who accepted it, and the AE inbox has leads still waiting."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from handoff.models import LeadRejection
from leadops.models import Lead, StageTransition
from leadops.rules import Stage

pytestmark = [pytest.mark.sqlite, pytest.mark.django_db]


@pytest.fixture
def world(db):
    call_command("seed_demo", anchor="2026-03-01", leads=1500, seed=11, quiet=True, stdout=io.StringIO())


def test_each_rejection_has_the_code_of_its_typed_reason(world):
    rejections = {(r.lead_id, r.at): r for r in LeadRejection.objects.select_related("reason")}
    assert rejections, "a 1,500-lead world rejects some SQLs"
    expected = {
        "No budget this year": ("sdr_reject", "no_budget"),
        "Could not reach after 6 attempts": ("sdr_reject", "unresponsive"),
        "Duplicate of an existing lead": ("sdr_reject", "bad_data"),
        "Company too small for our offering": ("sdr_reject", "not_icp"),
        "AE returned: budget not confirmed": ("ae_return", "no_budget"),
        "AE returned: not ready to buy": ("ae_return", "bad_timing"),
    }
    checked = 0
    for move in StageTransition.objects.filter(to_stage=Stage.REJECTED, reason__in=expected):
        rejection = rejections[(move.lead_id, move.at)]
        assert (rejection.kind, rejection.reason.code) == expected[move.reason]
        assert rejection.note == move.reason
        checked += 1
    assert checked > 10


def test_each_lead_handed_to_an_ae_names_the_sdr_who_accepted_it(world):
    handed = Lead.objects.filter(accepted_at__isnull=False)
    assert handed.exists()
    for lead in handed:
        accept = StageTransition.objects.filter(lead=lead, to_stage=Stage.ACCEPTED).latest("at")
        assert lead.sdr_id == accept.by_user_id
    assert Lead.objects.filter(stage=Stage.OPPORTUNITY, sal_at__isnull=True).count() == 0
    assert Lead.objects.filter(stage=Stage.ACCEPTED, sal_at__isnull=True).exists()
