"""Scoring pages: who may use which, the editor's messages, the flow from draft to active, the lead's explanation."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from leadops.models import AuditEntry, Lead
from leadops.rules import Stage
from scoring.models import BorderlineReview, ImpactPreview, ScoringModelVersion, ScoringRule, VersionStatus
from scoring.services import governance, scores
from tests.factories import AccountFactory, LeadFactory, UserFactory

pytestmark = [pytest.mark.django_db]

ROLES = ["anonymous", "sdr", "ae", "marketer", "manager", "admin", "outsider"]
OK, FOUND, FORBIDDEN, NOT_ALLOWED = 200, 302, 403, 405
LOGIN = "login"  # a redirect to the login page
QUERY_LIMIT = 8  # session, user, groups and perms, the page's own reads; none per row

# Who reads versions: marketing and managers. Who edits: marketing. Who decides: managers.
READ = [LOGIN, FORBIDDEN, FORBIDDEN, OK, OK, FORBIDDEN, FORBIDDEN]
EDIT_PAGE = [LOGIN, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN]
MANAGER_PAGE = [LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN]


def _matrix():
    """(name, method, url builder, POST data builder, statuses by role)."""
    return [
        ("version_list", "get", lambda w: reverse("scoring:version_list"), None, READ),
        ("version_detail", "get", lambda w: _v(w, "active"), None, READ),
        ("version_detail_draft", "get", lambda w: _v(w, "draft"), None, READ),
        ("version_compare", "get", lambda w: reverse("scoring:version_compare"), None, READ),
        ("version_preview", "get", lambda w: _v(w, "submitted", "preview"), None, READ),
        (
            "version_try",
            "get",
            lambda w: _v(w, "active", "try") + f"?lead={w['lead'].pk}",
            None,
            [LOGIN, FORBIDDEN, FORBIDDEN, OK, OK, FORBIDDEN, FORBIDDEN],
        ),
        ("approval_inbox", "get", lambda w: reverse("scoring:approval_inbox"), None, MANAGER_PAGE),
        ("borderline_queue", "get", lambda w: reverse("scoring:borderline_queue"), None, MANAGER_PAGE),
        (
            "rule_create",
            "get",
            lambda w: reverse("scoring:rule_create", args=[w["draft"].pk, "behaviour"]),
            None,
            EDIT_PAGE,
        ),
        (
            "rule_edit",
            "get",
            lambda w: reverse("scoring:rule_edit", args=[w["draft"].pk, w["rule"].pk]),
            None,
            EDIT_PAGE,
        ),
        # Writes: a refused role changes nothing; a permitted one gets its form back (200) or a redirect (302).
        (
            "draft_create",
            "post",
            lambda w: reverse("scoring:draft_create"),
            lambda w: {"model": w["model"].pk},
            [LOGIN, FORBIDDEN, FORBIDDEN, FOUND, FORBIDDEN, FORBIDDEN, FORBIDDEN],
        ),
        (
            "draft_create_get",
            "get",
            lambda w: reverse("scoring:draft_create"),
            None,
            [LOGIN, FORBIDDEN, FORBIDDEN, NOT_ALLOWED, FORBIDDEN, FORBIDDEN, FORBIDDEN],
        ),
        ("version_settings", "post", lambda w: _v(w, "draft", "settings"), lambda w: {}, EDIT_PAGE),
        (
            "rule_save",
            "post",
            lambda w: reverse("scoring:rule_edit", args=[w["draft"].pk, w["rule"].pk]),
            lambda w: {},
            EDIT_PAGE,
        ),
        (
            "rule_delete",
            "post",
            lambda w: reverse("scoring:rule_delete", args=[w["draft"].pk, w["rule"].pk]),
            lambda w: {},
            [LOGIN, FORBIDDEN, FORBIDDEN, FOUND, FORBIDDEN, FORBIDDEN, FORBIDDEN],
        ),
        ("version_submit", "post", lambda w: _v(w, "draft", "submit"), lambda w: {}, EDIT_PAGE),
        (
            "version_rollback",
            "post",
            lambda w: _v(w, "active", "rollback"),
            lambda w: {},
            [LOGIN, FORBIDDEN, FORBIDDEN, FOUND, FORBIDDEN, FORBIDDEN, FORBIDDEN],
        ),
        ("version_reject", "post", lambda w: _v(w, "submitted", "reject"), lambda w: {"comment": ""}, MANAGER_PAGE),
        (
            "version_approve",
            "post",
            lambda w: _v(w, "submitted", "approve"),
            lambda w: {"comment": "fine"},
            [LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FOUND, FORBIDDEN, FORBIDDEN],
        ),
        (
            "borderline_decide",
            "post",
            lambda w: reverse("scoring:borderline_decide", args=[w["review"].pk]),
            lambda w: {"decision": "keep", "note": "Wait for the demo"},
            [LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FOUND, FORBIDDEN, FORBIDDEN],
        ),
    ]


def _v(world, which, action=""):
    name = f"scoring:version_{action}" if action else "scoring:version_detail"
    return reverse(name, args=[world[which].pk])


# The layout impact_preview_compute stores; the fixture writes it directly because computing a real preview costs
# seconds of SQL compilation, too much for every case of the matrix (the flow test below computes a real one).
PREVIEW_RESULTS = {
    "leads": 40,
    "compared_with": "Default v1",
    "histogram": {
        "buckets": [f"{b}-{b + 9 if b < 90 else 100}" for b in range(0, 100, 10)],
        "new": [10, 8, 6, 5, 4, 3, 2, 1, 1, 0],
        "old": [12, 8, 5, 5, 4, 3, 1, 1, 1, 0],
    },
    "tier_changes": [{"from": "mql", "to": "sql", "leads": 3}, {"from": "unscored", "to": "below_mql", "leads": 2}],
    "tier_changed": 5,
    "stage_changes": {"to_mql": 2, "to_sql": 3, "to_review": 1, "to_disqualified": 0, "to_nurture": 0},
    "outcomes": {
        "closed_leads": 10,
        "won": 4,
        "predicted_sql": 5,
        "true_positive": 3,
        "base_rate": 0.4,
        "precision": 0.6,
        "recall": 0.75,
        "lift": 1.5,
    },
}


def submit_with_preview(version, by):
    governance.version_submit(version=version, by=by)
    ImpactPreview.objects.filter(version=version).update(
        status=ImpactPreview.Status.DONE, computed_at=timezone.now(), results=PREVIEW_RESULTS
    )


@pytest.fixture
def world(cast, default_model, active_version):
    marketer, sdr = cast["marketer"], cast["sdr"]
    draft = governance.version_draft_create(model=default_model, by=marketer, change_note="Weight intent more")
    submitted = governance.version_draft_create(model=default_model, by=marketer, change_note="Demo request +45")
    submit_with_preview(submitted, marketer)
    lead = LeadFactory(owner=sdr, stage=Stage.MQL)
    review = BorderlineReview.objects.create(lead=lead, version=active_version, score=58, opened_at=timezone.now())
    return {
        "model": default_model,
        "active": active_version,
        "draft": draft,
        "submitted": submitted,
        "rule": draft.rules.get(key="fit-revenue-10m-1b"),
        "lead": lead,
        "review": review,
    }


CASES = [
    pytest.param(name, method, url, data, role, statuses[i], id=f"{name}-{role}")
    for name, method, url, data, statuses in _matrix()
    for i, role in enumerate(ROLES)
]


@pytest.mark.parametrize(("name", "method", "url", "data", "role", "expected"), CASES)
def test_permission_matrix(client, cast, world, name, method, url, data, role, expected):
    if role != "anonymous":
        client.force_login(cast[role])
    target = url(world)
    response = client.post(target, data(world)) if method == "post" else client.get(target)
    if expected == LOGIN:
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    else:
        assert response.status_code == expected, response.content.decode()[:500]
        if expected == FOUND:
            assert not response.url.startswith(reverse("login"))


def test_navigation_shows_each_role_its_scoring_pages(client, cast):
    expected = {
        "marketer": {"Scoring"},
        "manager": {"Scoring", "Approvals", "Borderline"},
        "sdr": set(),
        "admin": set(),
    }
    for role, labels in expected.items():
        client.force_login(cast[role])
        items = {item["label"] for item in client.get(reverse("home")).context["nav_items"]}
        assert items & {"Scoring", "Approvals", "Borderline"} == labels, role


def test_a_manager_cannot_decide_a_review_of_another_team(client, world, cast):
    client.force_login(cast["other_sdr"].profile.manager)
    response = client.post(reverse("scoring:borderline_decide", args=[world["review"].pk]), {"decision": "promote"})
    assert response.status_code == 404
    assert BorderlineReview.objects.get(pk=world["review"].pk).status == "open"


# --- the editor -------------------------------------------------------------------------------------------------


def _attribute_post(rule, **changes):
    data = {
        "name": rule.name,
        "pillar": rule.pillar,
        "field": rule.field,
        "operator": rule.operator,
        "value": "",
        "value_max": "",
        "points": rule.points,
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("value", "value_max", "field", "message"),
    [
        ("1000000000", "10000000", "value", "has its minimum (1,000,000,000) above its maximum (10,000,000)"),
        ("lots", "10000000", "value", "'lots' is not a number"),
        ("10000000", "lots", "value_max", "'lots' is not a number"),
        # The missing end is the maximum: the message sits on its input.
        ("10000000", "", "value_max", "needs a minimum and a maximum"),
    ],
)
def test_a_bad_rule_value_is_shown_on_its_field_and_nothing_is_saved(
    client, world, marketer, value, value_max, field, message
):
    rule = world["rule"]
    client.force_login(marketer)
    url = reverse("scoring:rule_edit", args=[world["draft"].pk, rule.pk])
    response = client.post(url, _attribute_post(rule, value=value, value_max=value_max))
    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors.get(field, [])), form.errors
    page = response.content.decode()
    assert "invalid-feedback" in page and f'value="{value}"' in page  # the input is kept
    rule.refresh_from_db()
    assert rule.value == [10_000_000, 1_000_000_000]


def test_an_over_long_rule_name_is_refused_on_its_field_not_cut_short(client, world, marketer):
    rule = world["rule"]
    client.force_login(marketer)
    url = reverse("scoring:rule_edit", args=[world["draft"].pk, rule.pk])

    response = client.post(url, _attribute_post(rule, name="N" * 5000, value="10000000", value_max="1000000000"))

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["name"] == ["A rule name can be at most 120 characters; this one has 5000."], errors
    rule.refresh_from_db()
    assert rule.name == "Annual revenue $10M-$1B"


def test_inline_check_returns_the_form_partial_with_errors_and_saves_nothing(client, world, marketer):
    rule = world["rule"]
    client.force_login(marketer)
    url = reverse("scoring:rule_edit", args=[world["draft"].pk, rule.pk])
    data = _attribute_post(rule, value="50", value_max="10", _validate="1")
    response = client.post(url, data, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert response.status_code == 200 and "<html" not in page
    assert 'id="rule-form-wrap"' in page and "above its maximum" in page
    rule.refresh_from_db()
    assert rule.value == [10_000_000, 1_000_000_000]
    # A valid inline check saves nothing either.
    client.post(url, {**data, "value": "5", "value_max": "50"}, headers={"HX-Request": "true"})
    rule.refresh_from_db()
    assert rule.value == [10_000_000, 1_000_000_000]


def test_inline_check_leaves_fields_not_filled_in_yet_alone(client, world, marketer):
    client.force_login(marketer)
    url = reverse("scoring:rule_create", args=[world["draft"].pk, "behaviour"])
    response = client.post(url, {"name": "Webinar replays", "_validate": "1"}, headers={"HX-Request": "true"})
    assert not response.context["form"].errors


def test_saving_a_rule_through_htmx_redirects_to_the_version(client, world, marketer):
    client.force_login(marketer)
    draft = world["draft"]
    url = reverse("scoring:rule_create", args=[draft.pk, "behaviour"])
    data = {
        "name": "Webinar replays",
        "pillar": "engagement",
        "event_kind": "webinar_attended",
        "property_name": "",
        "property_value": "",
        "points": "5",
        "cap": "15",
        "half_life_days": "",
        "min_count": "1",
    }
    response = client.post(url, data, headers={"HX-Request": "true"})
    assert response.status_code == 200 and response["HX-Redirect"].startswith(
        reverse("scoring:version_detail", args=[draft.pk])
    )
    rule = draft.rules.get(name="Webinar replays")
    assert (rule.key, rule.kind, rule.half_life_days, rule.cap) == ("eng-webinar-replays", "behaviour", None, 15)


@pytest.mark.parametrize(
    ("kind", "data", "field", "message"),
    [
        (
            "behaviour",
            {
                "name": "Opens",
                "pillar": "engagement",
                "event_kind": "email_open",
                "points": "1",
                "cap": "500",
                "min_count": "1",
            },
            "cap",
            "the cap must be between 1 and 100",
        ),
        (
            "behaviour",
            {
                "name": "Path",
                "pillar": "engagement",
                "event_kind": "page_view",
                "points": "1",
                "cap": "5",
                "min_count": "1",
                "property_name": "path",
            },
            "property_value",
            "needs both",
        ),
        (
            "intent",
            {
                "name": "Surge",
                "pillar": "intent",
                "min_surge": "70",
                "topics": "crm, lead routing",
                "within_days": "0",
                "points": "20",
            },
            "within_days",
            "",
        ),
        (
            "attribute",
            {
                "name": "Title",
                "pillar": "fit",
                "field": "lead.title",
                "operator": "between",
                "value": "1",
                "value_max": "2",
                "points": "5",
            },
            "operator",
            "cannot be used on lead.title",
        ),
        (
            "disqualify",
            {"name": "Gov", "field": "account.industry", "operator": "in", "value": " , "},
            "value",
            "needs a non-empty list",
        ),
        ("inactivity", {"name": "Idle", "pillar": "engagement", "days": "30", "points": "-150"}, "points", ""),
    ],
)
def test_each_rule_kind_puts_its_problem_on_the_right_field(client, world, marketer, kind, data, field, message):
    client.force_login(marketer)
    before = world["draft"].rules.count()
    response = client.post(reverse("scoring:rule_create", args=[world["draft"].pk, kind]), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert world["draft"].rules.count() == before


def test_new_rules_of_each_kind_are_stored_as_the_engine_reads_them(client, world, marketer):
    client.force_login(marketer)
    draft = world["draft"]
    posts = {
        "attribute": {
            "name": "Mid-size",
            "pillar": "fit",
            "field": "account.employees",
            "operator": "at_least",
            "value": "200",
            "points": "5",
        },
        "intent": {
            "name": "CRM surge",
            "pillar": "intent",
            "min_surge": "80",
            "topics": "crm, lead routing",
            "within_days": "14",
            "points": "20",
        },
        "inactivity": {"name": "Idle 30 days", "pillar": "engagement", "days": "30", "points": "-5"},
        "disqualify": {
            "name": "Government",
            "field": "account.industry",
            "operator": "in",
            "value": "Government, Public sector",
        },
    }
    for kind, data in posts.items():
        response = client.post(reverse("scoring:rule_create", args=[draft.pk, kind]), data)
        assert response.status_code == 302, response.context["form"].errors
    assert draft.rules.get(name="Mid-size").value == 200
    assert draft.rules.get(name="CRM surge").topics == ["crm", "lead routing"]
    assert draft.rules.get(name="Idle 30 days").days == 30
    government = draft.rules.get(name="Government")
    assert (government.key, government.value) == ("dq-government", ["Government", "Public sector"])


def test_settings_are_refused_with_the_engine_message_and_saved_when_right(client, world, marketer):
    client.force_login(marketer)
    draft = world["draft"]
    url = reverse("scoring:version_settings", args=[draft.pk])
    good = {
        "weight_fit": 35,
        "weight_engagement": 30,
        "weight_intent": 25,
        "weight_buying": 10,
        "mql_cutoff": 50,
        "sql_cutoff_smb": 60,
        "sql_cutoff_mid_market": 75,
        "sql_cutoff_enterprise": 90,
        "hot_above": 80,
        "warm_from": 50,
        "borderline_band": 5,
        "fast_track_fit_floor": 40,
    }
    response = client.post(url, {**good, "weight_fit": 45})
    assert response.status_code == 200
    assert "add up to 100%, they add up to 110%" in response.content.decode()
    response = client.post(url, {**good, "weight_fit": 55, "weight_intent": 5})
    assert "Fit weight must be between 30% and 50%" in " ".join(response.context["settings_form"].errors["weight_fit"])
    response = client.post(url, {**good, "sql_cutoff_smb": 40}, headers={"HX-Request": "true"})
    assert "below the MQL cut-off" in response.content.decode() and "<html" not in response.content.decode()
    draft.refresh_from_db()
    assert str(draft.weight_fit) == "0.40"
    assert client.post(url, good).status_code == 302
    draft.refresh_from_db()
    assert (str(draft.weight_fit), str(draft.weight_intent)) == ("0.35", "0.25")


def test_deleting_a_rule_of_a_draft(client, world, marketer):
    client.force_login(marketer)
    rule = world["rule"]
    client.post(reverse("scoring:rule_delete", args=[world["draft"].pk, rule.pk]))
    assert not ScoringRule.objects.filter(pk=rule.pk).exists()


def test_a_submitted_version_shows_no_editor(client, world, marketer):
    client.force_login(marketer)
    submitted = world["submitted"]
    page = client.get(reverse("scoring:version_detail", args=[submitted.pk])).content.decode()
    assert 'data-testid="settings-form"' not in page and "Add rule" not in page
    rule = submitted.rules.first()
    response = client.post(reverse("scoring:rule_edit", args=[submitted.pk, rule.pk]), {"name": "x"})
    assert response.status_code == 302
    assert ScoringRule.objects.get(pk=rule.pk).name == rule.name


def test_version_page_describes_rules_in_words(client, world, manager):
    client.force_login(manager)
    page = client.get(reverse("scoring:version_detail", args=[world["active"].pk])).content.decode()
    assert "account&#x27;s annual revenue between 10,000,000 and 1,000,000,000" in page
    assert "each pricing page visit, counted from the 3rd; at most 25 points; half-life 30 days" in page
    assert "intent surge of 70+ on any topic, seen within 30 days" in page
    assert "Disqualifiers" in page


# --- the flow, page by page -----------------------------------------------------------------------------------


def test_flow_from_draft_to_active_through_the_pages(
    client, cast, default_model, active_version, django_capture_on_commit_callbacks
):
    marketer, manager = cast["marketer"], cast["manager"]
    client.force_login(marketer)
    assert "New draft" in client.get(reverse("scoring:version_list")).content.decode()
    response = client.post(reverse("scoring:draft_create"), {"model": default_model.pk})
    draft = ScoringModelVersion.objects.get(model=default_model, status=VersionStatus.DRAFT)
    assert response.url == reverse("scoring:version_detail", args=[draft.pk])
    assert "Add rule" in client.get(response.url).content.decode()

    rule = draft.rules.get(key="buy-demo-request")
    edit = reverse("scoring:rule_edit", args=[draft.pk, rule.pk])
    data = {
        "name": rule.name,
        "pillar": "buying",
        "event_kind": "demo_request",
        "property_name": "",
        "property_value": "",
        "points": "45",
        "cap": "450",
        "half_life_days": "60",
        "min_count": "1",
    }
    bad = client.post(edit, data)
    assert "the cap must be between 1 and 100 points" in bad.content.decode()
    rule.refresh_from_db()
    assert (rule.points, rule.cap) == (50, 50)
    assert client.post(edit, {**data, "cap": "45"}).status_code == 302
    rule.refresh_from_db()
    assert (rule.points, rule.cap) == (45, 45)

    submit = reverse("scoring:version_submit", args=[draft.pk])
    assert "approving manager reads it first" in client.post(submit, {"change_note": ""}).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(submit, {"change_note": "Demo requests are worth a little less"}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == VersionStatus.SUBMITTED and draft.change_note == "Demo requests are worth a little less"
    assert draft.preview.status == ImpactPreview.Status.DONE

    # The author cannot approve: marketing has no approval right at all.
    assert client.post(reverse("scoring:version_approve", args=[draft.pk])).status_code == 403
    compare = client.get(reverse("scoring:version_compare"), {"new": draft.pk})
    assert compare.context["old"] == active_version
    assert "50 → " in re.sub(r"<[^>]+>", "", compare.content.decode()).replace("\n", " ")

    client.force_login(manager)
    inbox = client.get(reverse("scoring:approval_inbox")).content.decode()
    assert draft.label in inbox and "Demo requests are worth a little less" in inbox
    page = client.get(reverse("scoring:version_detail", args=[draft.pk])).content.decode()
    assert "Approve and activate" in page and 'data-testid="histogram"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("scoring:version_approve", args=[draft.pk]), {"comment": "Agreed"})
    assert response.status_code == 302
    draft.refresh_from_db()
    active_version.refresh_from_db()
    assert (draft.status, active_version.status) == (VersionStatus.ACTIVE, VersionStatus.RETIRED)
    assert draft not in client.get(reverse("scoring:approval_inbox")).context["versions"]


def test_a_manager_who_wrote_a_version_is_told_another_manager_decides(
    client, manager, marketer, default_model, django_capture_on_commit_callbacks
):
    manager.groups.add(*marketer.groups.all())
    own = governance.version_draft_create(model=default_model, by=manager)
    with django_capture_on_commit_callbacks(execute=True):
        governance.version_submit(version=own, by=manager)
    client.force_login(manager)
    page = client.get(reverse("scoring:version_detail", args=[own.pk])).content.decode()
    assert "another manager approves or rejects it" in page and "Approve and activate" not in page
    assert own.label not in client.get(reverse("scoring:approval_inbox")).content.decode()
    response = client.post(reverse("scoring:version_approve", args=[own.pk]), {"comment": ""})
    assert "You changed this version" in response.content.decode()
    assert "another manager has to decide it" in response.content.decode()
    own.refresh_from_db()
    assert own.status == VersionStatus.SUBMITTED


def test_rejection_needs_a_comment_on_the_page(client, world, manager):
    client.force_login(manager)
    url = reverse("scoring:version_reject", args=[world["submitted"].pk])
    response = client.post(url, {"comment": "  "})
    assert "Say why the change is rejected" in " ".join(response.context["decision_form"].errors["comment"])
    assert client.post(url, {"comment": "Too generous to demo requests"}).status_code == 302
    world["submitted"].refresh_from_db()
    assert world["submitted"].status == VersionStatus.REJECTED
    client.force_login(UserFactory(role="Marketing"))
    page = client.get(reverse("scoring:version_detail", args=[world["submitted"].pk])).content.decode()
    assert "Too generous to demo requests" in page and "Roll back to this version" in page


def test_rollback_submits_a_copy_of_a_retired_version(
    client, world, marketer, manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        governance.version_approve(version=world["submitted"], by=manager)
    old = world["active"]
    client.force_login(marketer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("scoring:version_rollback", args=[old.pk]))
    copy = ScoringModelVersion.objects.get(based_on=old, status=VersionStatus.SUBMITTED)
    assert response.url == reverse("scoring:version_detail", args=[copy.pk])
    assert copy.change_note == f"Roll back to {old.label}"


def test_preview_polls_while_pending_and_reloads_the_page_when_ready(client, world, manager):
    client.force_login(manager)
    submitted = world["submitted"]
    url = reverse("scoring:version_preview", args=[submitted.pk])
    ImpactPreview.objects.filter(version=submitted).update(status=ImpactPreview.Status.PENDING)
    pending = client.get(url + "?poll=1", headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 2s"' in pending and "Being computed" in pending
    page = client.get(reverse("scoring:version_detail", args=[submitted.pk])).content.decode()
    assert re.search(r'<button class="btn btn-success" type="submit"\s+disabled', page)
    ImpactPreview.objects.filter(version=submitted).update(status=ImpactPreview.Status.DONE)
    ready = client.get(url + "?poll=1", headers={"HX-Request": "true"})
    assert ready["HX-Refresh"] == "true"


def test_try_on_a_lead_scores_with_this_version_and_writes_nothing(client, world, marketer, active_version):
    lead = _scored_lead(active_version)
    before = (AuditEntry.objects.count(), Lead.objects.values_list("score_total", "scored_at").get(pk=lead.pk))
    client.force_login(marketer)
    draft = world["draft"]
    rule = draft.rules.get(key="fit-seniority-vp-plus")
    governance.rule_save(version=draft, by=marketer, rule=rule, data={"points": 5})
    before = (AuditEntry.objects.count(), before[1])
    url = reverse("scoring:version_try", args=[draft.pk])
    response = client.get(url, {"lead": lead.email.upper()}, headers={"HX-Request": "true"})
    tried = response.context["tried"]
    assert tried["result"].total < lead.score_total  # VP+ is worth 5 instead of 25 in this draft
    assert "Nothing is saved" in response.content.decode()
    assert (AuditEntry.objects.count(), Lead.objects.values_list("score_total", "scored_at").get(pk=lead.pk)) == before
    missing = client.get(url, {"lead": "nobody@nowhere.example"})
    assert "No lead &#x27;nobody@nowhere.example&#x27; is visible to you" in missing.content.decode()


# --- the lead page --------------------------------------------------------------------------------------------


def _scored_lead(version, **kwargs):
    account = AccountFactory(industry="Software", employees=800, annual_revenue=200_000_000)
    lead = LeadFactory(account=account, seniority="vp", department="sales", email=f"vp@{account.domain}", **kwargs)
    from scoring.services import aggregates

    aggregates.events_record(
        events=[
            {"lead_id": lead.pk, "kind": kind, "occurred_at": timezone.now(), "properties": {}}
            for kind in ("demo_request", "email_open", "email_open", "content_download")
        ]
    )
    scores.leads_rescore(lead_ids=[lead.pk], version=version)
    lead.refresh_from_db()
    return lead


def test_lead_page_explains_the_score_and_the_sum_equals_the_stored_total(client, marketer, active_version):
    lead = _scored_lead(active_version, stage=Stage.LEAD)
    unrelated = LeadFactory(account=AccountFactory(industry="Education"), email="x@school.example")
    scores.leads_rescore(lead_ids=[unrelated.pk], version=active_version)
    client.force_login(marketer)
    page = client.get(reverse("lead_detail", args=[lead.pk])).content.decode()
    line = re.search(r'data-testid="score-sum">(.*?)</p>', page, re.S).group(1)
    text = re.sub(r"<[^>]+>", "", line)
    terms = re.findall(r"([\d.]+) × (\d+)", text)
    assert len(terms) == 4
    weighted = sum(float(w) * int(s) for w, s in terms)
    stated = int(re.search(r"= (\d+)", text).group(1))
    assert stated == lead.score_total == int(weighted + 0.5)
    assert "Top positive factors" in page and "Demo request" in page and "Annual revenue $10M-$1B" in page
    page = client.get(reverse("lead_detail", args=[unrelated.pk])).content.decode()
    assert "Non-target industry" in page and "-20" in page  # the top negative factor


def test_lead_page_says_when_the_score_is_being_refreshed(client, marketer, active_version):
    lead = _scored_lead(active_version)
    Lead.objects.filter(pk=lead.pk).update(score_total=lead.score_total - 1)
    client.force_login(marketer)
    page = client.get(reverse("lead_detail", args=[lead.pk])).content.decode()
    assert "New activity since the last scoring; the score is being refreshed" in page
    assert 'data-testid="score-sum"' not in page


def test_lead_page_of_an_unscored_lead_keeps_the_empty_text(client, marketer):
    lead = LeadFactory()
    client.force_login(marketer)
    assert "Not scored yet" in client.get(reverse("lead_detail", args=[lead.pk])).content.decode()


# --- borderline queue -----------------------------------------------------------------------------------------


def test_borderline_queue_decides_a_row_in_place(client, world, manager):
    client.force_login(manager)
    page = client.get(reverse("scoring:borderline_queue")).content.decode()
    review = world["review"]
    assert f'id="review-{review.pk}"' in page and "vs 75" in page  # a Mid-Market account: cut-off 75
    url = reverse("scoring:borderline_decide", args=[review.pk])
    refused = client.post(url, {"decision": "keep", "note": ""}, headers={"HX-Request": "true"}).content.decode()
    assert "Say why the lead stays an MQL" in refused and "<html" not in refused
    row = client.post(url, {"decision": "promote", "note": "Asked for pricing"}, headers={"HX-Request": "true"})
    assert "Promoted to SQL" in row.content.decode() and row.content.decode().lstrip().startswith("{#") is False
    assert Lead.objects.get(pk=review.lead_id).stage == Stage.SQL
    assert f'id="review-{review.pk}"' not in client.get(reverse("scoring:borderline_queue")).content.decode()


# --- query counts ---------------------------------------------------------------------------------------------


def test_version_list_and_inbox_query_counts_are_pinned(client, cast, default_model, django_assert_max_num_queries):
    other_marketer = UserFactory(role="Marketing")
    for i in range(8):
        draft = governance.version_draft_create(model=default_model, by=other_marketer, change_note=f"v{i}")
        if i % 2:
            submit_with_preview(draft, other_marketer)
    for role in ("marketer", "manager"):
        client.force_login(cast[role])
        with django_assert_max_num_queries(QUERY_LIMIT):
            response = client.get(reverse("scoring:version_list"))
        assert len(response.context["all_versions"]) == 9
    with django_assert_max_num_queries(QUERY_LIMIT):
        response = client.get(reverse("scoring:approval_inbox"))
    assert len(response.context["versions"]) == 4


def test_borderline_queue_query_count_is_pinned(client, manager, sdr, active_version, django_assert_max_num_queries):
    for i in range(20):
        lead = LeadFactory(owner=sdr, stage=Stage.MQL, score_total=56 + i % 5)
        BorderlineReview.objects.create(lead=lead, version=active_version, score=56 + i % 5, opened_at=timezone.now())
    client.force_login(manager)
    with django_assert_max_num_queries(QUERY_LIMIT):
        response = client.get(reverse("scoring:borderline_queue"))
    assert len(response.context["page"].object_list) == 20


def test_a_version_copied_from_an_older_base_is_flagged_before_approval(client, world, manager, marketer):
    # Another change went live after world["submitted"] was copied from v1: approving it would undo that change.
    newer = governance.version_draft_create(model=world["model"], by=marketer)
    submit_with_preview(newer, marketer)
    governance.version_approve(version=newer, by=manager)
    client.force_login(manager)
    page = client.get(reverse("scoring:version_detail", args=[world["submitted"].pk])).content.decode()
    assert 'data-testid="stale-base"' in page and f"{newer.label} is active now" in page
    inbox = client.get(reverse("scoring:approval_inbox"))
    assert [v.stale_base for v in inbox.context["versions"]] == [True]
    fresh = governance.version_draft_create(model=world["model"], by=marketer)
    submit_with_preview(fresh, marketer)
    page = client.get(reverse("scoring:version_detail", args=[fresh.pk])).content.decode()
    assert 'data-testid="stale-base"' not in page


def test_a_new_draft_can_start_from_any_version(client, world, marketer):
    client.force_login(marketer)
    response = client.post(reverse("scoring:draft_create"), {"based_on": world["submitted"].pk})
    copy = ScoringModelVersion.objects.get(based_on=world["submitted"], status=VersionStatus.DRAFT)
    assert response.url == reverse("scoring:version_detail", args=[copy.pk])
    assert copy.rules.count() == world["submitted"].rules.count()
    assert client.post(reverse("scoring:draft_create"), {"model": "junk"}).status_code == 404
