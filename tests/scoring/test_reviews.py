"""Borderline reviews: a manager promotes a lead to SQL or keeps it as an MQL, once, with the reason recorded."""

import pytest
from django.utils import timezone

from leadops.models import AuditEntry, Lead, StageTransition
from leadops.rules import Stage
from scoring.models import BorderlineReview
from scoring.services import scores
from scoring.services.reviews import ReviewError, borderline_review_decide
from tests.factories import LeadFactory

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


@pytest.fixture
def review(sdr, active_version):
    lead = LeadFactory(owner=sdr, stage=Stage.MQL, score_total=73)
    return BorderlineReview.objects.create(lead=lead, version=active_version, score=73, opened_at=timezone.now())


@pytest.fixture
def sql_signal():
    received = []

    def receiver(sender, lead_ids, **kwargs):
        received.extend(lead_ids)

    scores.leads_became_sql.connect(receiver)
    yield received
    scores.leads_became_sql.disconnect(receiver)


def test_promote_moves_the_lead_to_sql_and_tells_routing_once_committed(
    review, manager, sql_signal, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        borderline_review_decide(review=review, by=manager, promote=True, note="Asked for a quote")
    assert sql_signal == []  # nothing is routed before the transaction commits
    for callback in callbacks:
        callback()
    assert sql_signal == [review.lead_id]
    review.refresh_from_db()
    lead = Lead.objects.get(pk=review.lead_id)
    assert (review.status, review.decided_by, review.note) == ("promoted", manager, "Asked for a quote")
    assert lead.stage == Stage.SQL and lead.sql_at is not None
    transition = StageTransition.objects.get(lead=lead)
    assert (transition.from_stage, transition.by_user) == (Stage.MQL, manager)
    assert "promoted at score 73" in transition.reason
    entry = AuditEntry.objects.get(action="scoring.borderline_promote")
    assert entry.changes["lead"] == lead.pk and entry.reason == "Asked for a quote"


def test_keep_records_the_decision_and_leaves_the_stage(
    review, manager, sql_signal, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        borderline_review_decide(review=review, by=manager, promote=False, note="No budget until Q3")
    review.refresh_from_db()
    assert (review.status, review.note) == ("kept", "No budget until Q3")
    assert Lead.objects.get(pk=review.lead_id).stage == Stage.MQL
    assert sql_signal == []
    assert AuditEntry.objects.filter(action="scoring.borderline_keep", reason="No budget until Q3").exists()


def test_keeping_a_lead_needs_a_reason(review, manager):
    with pytest.raises(ReviewError, match="Say why the lead stays an MQL"):
        borderline_review_decide(review=review, by=manager, promote=False, note="  ")
    review.refresh_from_db()
    assert review.status == "open"


def test_a_decided_review_is_refused(review, manager, other_sdr):
    borderline_review_decide(review=review, by=manager, promote=False, note="Too early")
    with pytest.raises(ReviewError, match="already decided: Kept as MQL by manager"):
        borderline_review_decide(review=review, by=manager, promote=True)
    assert Lead.objects.get(pk=review.lead_id).stage == Stage.MQL
    assert AuditEntry.objects.filter(action__startswith="scoring.borderline").count() == 1


def test_a_lead_that_moved_meanwhile_is_not_promoted(review, manager):
    Lead.objects.filter(pk=review.lead_id).update(stage=Stage.DISQUALIFIED)
    with pytest.raises(ReviewError, match="moved to Disqualified in the meantime"):
        borderline_review_decide(review=review, by=manager, promote=True)
    review.refresh_from_db()
    assert review.status == "open"


def test_only_reviewers_decide(review, sdr, marketer):
    for person in (sdr, marketer):
        with pytest.raises(ReviewError, match="does not allow"):
            borderline_review_decide(review=review, by=person, promote=True)
    assert BorderlineReview.objects.get(pk=review.pk).status == "open"


# --- who may decide: the same people who see the review in their queue ------------------------------------------


def _open_review(active_version, **lead_fields):
    lead = LeadFactory(stage=Stage.MQL, score_total=72, **lead_fields)
    return BorderlineReview.objects.create(lead=lead, version=active_version, score=72, opened_at=timezone.now())


@pytest.mark.parametrize(
    ("owner", "decider", "listed", "status"),
    [
        # Nobody owns most borderline leads: every manager sees them and can decide them.
        (None, "manager", True, 302),
        (None, "other_manager", True, 302),
        # A lead of the manager's team: their call; another team's manager neither sees nor decides it.
        ("sdr", "manager", True, 302),
        ("sdr", "other_manager", False, 404),
        # Roles without the review permission are refused outright.
        (None, "sdr", False, 403),
        (None, "marketer", False, 403),
        (None, "admin_user", False, 403),
    ],
)
def test_whoever_sees_a_review_in_the_queue_can_decide_it(
    request, client, active_version, sdr, other_sdr, owner, decider, listed, status
):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    review = _open_review(active_version, owner=sdr if owner == "sdr" else None)
    if decider == "other_manager":
        user = get_user_model().objects.get(username="other_manager")  # created with other_sdr's team
    else:
        user = request.getfixturevalue(decider)
    client.force_login(user)

    queue = client.get(reverse("scoring:borderline_queue"))
    response = client.post(reverse("scoring:borderline_decide", args=[review.pk]), {"decision": "promote", "note": ""})

    assert (queue.status_code == 200 and f"/leads/{review.lead_id}/" in queue.content.decode()) == listed
    assert response.status_code == status
    review.refresh_from_db()
    assert review.status == ("promoted" if status == 302 else "open")
