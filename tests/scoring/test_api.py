"""Scoring API: the same permissions, scoping and messages as the pages."""

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from leadops.rules import Stage
from scoring.models import ImpactPreview, VersionStatus
from scoring.services import aggregates, governance, scores
from tests.factories import AccountFactory, LeadFactory
from tests.scoring.test_views import PREVIEW_RESULTS, submit_with_preview

pytestmark = [pytest.mark.django_db]

ROLES = ["anonymous", "sdr", "ae", "marketer", "manager", "admin", "outsider"]
OK, BAD, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND = 200, 400, 401, 403, 404

MATRIX = [
    # The lead belongs to the SDR: the AE cannot see it (404), the outsider has no lead access at all (403).
    ("lead_score", "get", "api_lead_score", "lead", None, [UNAUTHENTICATED, OK, NOT_FOUND, OK, OK, OK, FORBIDDEN]),
    (
        "version_list",
        "get",
        "api_scoring_version_list",
        None,
        None,
        [UNAUTHENTICATED, FORBIDDEN, FORBIDDEN, OK, OK, FORBIDDEN, FORBIDDEN],
    ),
    (
        "version_detail",
        "get",
        "api_scoring_version_detail",
        "active",
        None,
        [UNAUTHENTICATED, FORBIDDEN, FORBIDDEN, OK, OK, FORBIDDEN, FORBIDDEN],
    ),
    (
        "submit",
        "post",
        "api_scoring_version_submit",
        "draft",
        {"change_note": "Intent counts more"},
        [UNAUTHENTICATED, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN],
    ),
    (
        "approve",
        "post",
        "api_scoring_version_approve",
        "submitted",
        {"comment": "Fine"},
        [UNAUTHENTICATED, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN],
    ),
    (
        "reject",
        "post",
        "api_scoring_version_reject",
        "submitted",
        {"comment": "Too generous"},
        [UNAUTHENTICATED, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN],
    ),
]
CASES = [
    pytest.param(url_name, method, target, data, role, statuses[i], id=f"{name}-{role}")
    for name, method, url_name, target, data, statuses in MATRIX
    for i, role in enumerate(ROLES)
]


@pytest.fixture
def world(cast, default_model, active_version):
    marketer = cast["marketer"]
    draft = governance.version_draft_create(model=default_model, by=marketer)
    submitted = governance.version_draft_create(model=default_model, by=marketer, change_note="Demo request +45")
    submit_with_preview(submitted, marketer)
    return {"active": active_version, "draft": draft, "submitted": submitted, "lead": LeadFactory(owner=cast["sdr"])}


@pytest.fixture
def api(cast):
    def as_role(role):
        client = APIClient()
        if role != "anonymous":
            client.force_authenticate(cast[role])
        return client

    return as_role


@pytest.mark.parametrize(("url_name", "method", "target", "data", "role", "expected"), CASES)
def test_permission_matrix(api, world, url_name, method, target, data, role, expected):
    url = reverse(url_name, args=[world[target].pk] if target else [])
    client = api(role)
    response = client.post(url, data, format="json") if method == "post" else client.get(url)
    assert response.status_code == expected, response.content[:300]


def _scored_lead(version, owner):
    account = AccountFactory(industry="Software", employees=800, annual_revenue=200_000_000)
    lead = LeadFactory(
        account=account,
        seniority="vp",
        department="sales",
        email=f"cto@{account.domain}",
        owner=owner,
        stage=Stage.LEAD,
    )
    aggregates.events_record(
        events=[
            {"lead_id": lead.pk, "kind": kind, "occurred_at": timezone.now(), "properties": {}}
            for kind in ("demo_request", "webinar_attended", "email_click")
        ]
    )
    scores.leads_rescore(lead_ids=[lead.pk], version=version)
    lead.refresh_from_db()
    return lead


def test_lead_score_comes_with_contributions_that_add_up(api, sdr, active_version):
    lead = _scored_lead(active_version, sdr)
    body = api("sdr").get(reverse("api_lead_score", args=[lead.pk])).json()
    assert body["scored"] and body["total"] == lead.score_total
    assert body["version"] == {"id": active_version.pk, "label": "Default v1"}
    explanation = body["explanation"]
    assert explanation["matches_stored"] is True
    assert explanation["sum"].endswith(f"= {lead.score_total}")
    pillars = {p: 0.0 for p in ("fit", "engagement", "intent", "buying")}
    for c in explanation["contributions"]:
        if c["pillar"]:
            pillars[c["pillar"]] += c["points"]
    clamped = {p: int(min(100.0, max(0.0, v)) + 0.5) for p, v in pillars.items()}
    assert clamped == body["pillars"]
    weighted = sum(explanation["weights"][p] * clamped[p] for p in clamped)
    assert int(weighted + 0.5) == body["total"]
    top = explanation["top_positive"][0]
    assert top["rule_name"] == "Demo request" and top["points"] == pytest.approx(50, abs=0.01)
    assert set(top) == {"rule_key", "rule_name", "pillar", "points", "matched"}


def test_an_unscored_lead_says_so(api, sdr):
    lead = LeadFactory(owner=sdr)
    body = api("sdr").get(reverse("api_lead_score", args=[lead.pk])).json()
    assert body["scored"] is False and body["explanation"] is None and body["total"] is None


def test_versions_list_and_detail(api, world, django_assert_max_num_queries):
    client = api("manager")
    with django_assert_max_num_queries(6):
        versions = client.get(reverse("api_scoring_version_list")).json()
    assert [v["number"] for v in versions] == [3, 2, 1]
    assert versions[0]["status"] == "submitted" and versions[0]["preview_status"] == "done"
    assert versions[2]["weights"] == {"fit": 0.4, "engagement": 0.3, "intent": 0.2, "buying": 0.1}
    assert versions[2]["thresholds"]["sql_cutoff_enterprise"] == 90
    detail = client.get(reverse("api_scoring_version_detail", args=[world["active"].pk])).json()
    revenue = next(r for r in detail["rules"] if r["key"] == "fit-revenue-10m-1b")
    assert revenue["value"] == [10_000_000, 1_000_000_000]
    assert revenue["description"] == "account's annual revenue between 10,000,000 and 1,000,000,000"
    submitted = client.get(reverse("api_scoring_version_detail", args=[world["submitted"].pk])).json()
    assert submitted["preview"]["results"]["tier_changed"] == PREVIEW_RESULTS["tier_changed"]


def test_submit_approve_and_reject_through_the_api(api, world, django_capture_on_commit_callbacks):
    draft = world["draft"]
    with django_capture_on_commit_callbacks(execute=True):
        response = api("marketer").post(
            reverse("api_scoring_version_submit", args=[draft.pk]),
            {"change_note": "Same rules, new note"},
            format="json",
        )
    assert response.status_code == 200
    body = response.json()
    # The preview is computed in the background, after the response.
    assert (body["status"], body["change_note"], body["preview"]["status"]) == (
        "submitted",
        "Same rules, new note",
        ImpactPreview.Status.PENDING,
    )
    draft.refresh_from_db()
    assert draft.preview.status == ImpactPreview.Status.DONE
    again = api("marketer").post(reverse("api_scoring_version_submit", args=[draft.pk]), {}, format="json")
    assert again.status_code == 400 and "can no longer be edited" in again.json()["detail"]

    manager = api("manager")
    refused = manager.post(reverse("api_scoring_version_reject", args=[draft.pk]), {"comment": " "}, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"detail": "Say why the change is rejected, so marketing can fix it."}
    with django_capture_on_commit_callbacks(execute=True):
        approved = manager.post(reverse("api_scoring_version_approve", args=[draft.pk]), {}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == VersionStatus.ACTIVE
    world["active"].refresh_from_db()
    assert world["active"].status == VersionStatus.RETIRED

    rejected = manager.post(
        reverse("api_scoring_version_reject", args=[world["submitted"].pk]), {"comment": "Superseded"}, format="json"
    )
    assert rejected.status_code == 200
    assert (rejected.json()["status"], rejected.json()["decision_comment"]) == ("rejected", "Superseded")
    late = manager.post(reverse("api_scoring_version_approve", args=[world["submitted"].pk]), {}, format="json")
    assert late.status_code == 400 and "not waiting for approval" in late.json()["detail"]


def test_nobody_approves_their_own_version_through_the_api(api, cast, default_model):
    author = cast["manager"]
    author.groups.add(*cast["marketer"].groups.all())
    own = governance.version_draft_create(model=default_model, by=author)
    submit_with_preview(own, author)
    response = api("manager").post(reverse("api_scoring_version_approve", args=[own.pk]), {}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == (
        f"You changed this version (draft and submission on {timezone.localdate():%Y-%m-%d}); "
        "another manager has to decide it."
    )
    own.refresh_from_db()
    assert own.status == VersionStatus.SUBMITTED


def test_submitting_a_version_without_rules_is_refused_with_the_reason(api, world, marketer):
    draft = world["draft"]
    draft.rules.all().delete()
    response = api("marketer").post(reverse("api_scoring_version_submit", args=[draft.pk]), {}, format="json")
    assert response.status_code == 400 and "without rules" in response.json()["detail"]


def test_a_refusal_names_the_setting_it_is_about(api, world, marketer):
    draft = world["draft"]
    type(draft).objects.filter(pk=draft.pk).update(weight_fit="0.60", weight_engagement="0.10")
    response = api("marketer").post(reverse("api_scoring_version_submit", args=[draft.pk]), {}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The Fit weight must be between 30% and 50%, got 60%.",
        "field": "weights.fit",
    }


def test_approval_waits_for_the_preview(api, world, marketer):
    ImpactPreview.objects.filter(version=world["submitted"]).update(status=ImpactPreview.Status.PENDING)
    response = api("manager").post(
        reverse("api_scoring_version_approve", args=[world["submitted"].pk]), {}, format="json"
    )
    assert response.status_code == 400 and "still being computed" in response.json()["detail"]


def test_the_schema_describes_the_scoring_endpoints(api):
    response = api("marketer").get(reverse("api_schema"), {"format": "json"})
    paths = response.json()["paths"]
    assert "/api/scoring/versions/{version_id}/approve/" in paths
    assert "/api/scoring/leads/{lead_id}/score/" in paths


def test_a_token_works_like_a_session(world, marketer):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=marketer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(reverse("api_scoring_version_list")).status_code == 200
