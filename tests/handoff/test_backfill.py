"""Rejections recorded before their lead was scored take the lead's score once; scored ones keep theirs."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from handoff.models import LeadRejection
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_unscored_rejections_take_their_leads_score_and_scored_ones_keep_theirs(reasons):
    unscored = LeadFactory(score_total=64, score_tier="sql")
    scored = LeadFactory(score_total=80, score_tier="sql")
    never = LeadFactory(score_total=None)
    for lead, score in ((unscored, None), (scored, 71), (never, None)):
        LeadRejection.objects.create(
            lead=lead, reason=reasons["no_need"], note="x", at=timezone.now(), to_stage="rejected", score_total=score
        )
    out = io.StringIO()
    call_command("rejections_backfill_scores", stdout=out)
    assert "Rejections given their lead's score: 1." in out.getvalue()
    assert dict(LeadRejection.objects.values_list("lead_id", "score_total")) == {
        unscored.pk: 64,
        scored.pk: 71,
        never.pk: None,
    }
    call_command("rejections_backfill_scores", stdout=io.StringIO())
    assert LeadRejection.objects.get(lead=unscored).score_total == 64
