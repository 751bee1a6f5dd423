"""Role permissions mean what the role table says: being a superuser adds nothing to a LeadOps role.

The support admin's superuser flag opens Django's admin site; in LeadOps itself only the roles (groups) and
permissions given to the person count (leadops.permissions.has_role_perm). The demo's `admin` is a superuser in
the Admin role, so it may do exactly what the Admin role may do, and approving scoring changes is not part of it.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, Permission
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from leadops import roles
from leadops.permissions import has_role_perm
from leadops.rules import Stage
from scoring.models import BorderlineReview, ScoringModelVersion, VersionStatus
from scoring.services import governance
from tests.factories import LeadFactory, UserFactory
from tests.scoring.test_views import submit_with_preview

pytestmark = [pytest.mark.django_db]

OK, FOUND, ACCEPTED, FORBIDDEN = 200, 302, 202, 403
ACTORS = ["superuser", "demo_admin", "admin", "marketer", "manager", "sdr", "ae"]


@pytest.fixture
def active_version(db):
    return ScoringModelVersion.objects.select_related("model").get(model__name="Default", status=VersionStatus.ACTIVE)


@pytest.fixture
def actors(cast):
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    # What `make run` creates: the support admin is a superuser in the Admin role.
    demo_admin = UserFactory(username="admin", role=roles.ADMIN, is_staff=True, is_superuser=True)
    return {"superuser": superuser, "demo_admin": demo_admin, **{name: cast[name] for name in ACTORS[2:]}}


@pytest.fixture
def world(cast, active_version):
    marketer = cast["marketer"]
    draft = governance.version_draft_create(model=active_version.model, by=marketer, change_note="Weight intent more")
    submitted = governance.version_draft_create(model=active_version.model, by=marketer, change_note="Demo request +45")
    submit_with_preview(submitted, marketer)
    lead = LeadFactory(owner=cast["sdr"], stage=Stage.MQL)
    review = BorderlineReview.objects.create(lead=lead, version=active_version, score=58, opened_at=timezone.now())
    return {"draft": draft, "submitted": submitted, "lead": lead, "review": review}


def _state(world) -> tuple:
    draft, submitted, review = world["draft"], world["submitted"], world["review"]
    for row in (draft, submitted, review):
        row.refresh_from_db()
    return (draft.status, draft.rules.count(), submitted.status, submitted.decided_by_id, review.status)


# Statuses by actor, in the order of ACTORS: superuser, demo admin, admin role, marketer, manager, sdr, ae.
PAGES = {
    "edit draft": (
        "post",
        lambda w: reverse("scoring:rule_delete", args=[w["draft"].pk, w["draft"].rules.first().pk]),
        {},
        [FORBIDDEN, FORBIDDEN, FORBIDDEN, FOUND, FORBIDDEN, FORBIDDEN, FORBIDDEN],
    ),
    "submit": (
        "post",
        lambda w: reverse("scoring:version_submit", args=[w["draft"].pk]),
        {"change_note": "Weight intent more"},
        [FORBIDDEN, FORBIDDEN, FORBIDDEN, FOUND, FORBIDDEN, FORBIDDEN, FORBIDDEN],
    ),
    "approve": (
        "post",
        lambda w: reverse("scoring:version_approve", args=[w["submitted"].pk]),
        {"comment": "Fine"},
        [FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FOUND, FORBIDDEN, FORBIDDEN],
    ),
    "reject": (
        "post",
        lambda w: reverse("scoring:version_reject", args=[w["submitted"].pk]),
        {"comment": "Too generous"},
        [FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FOUND, FORBIDDEN, FORBIDDEN],
    ),
    "decide borderline": (
        "post",
        lambda w: reverse("scoring:borderline_decide", args=[w["review"].pk]),
        {"decision": "keep", "note": "Wait for the demo"},
        [FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FOUND, FORBIDDEN, FORBIDDEN],
    ),
    "import": ("get", lambda w: reverse("lead_import"), None, [FORBIDDEN, OK, OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN]),
    "view audit log": (
        "get",
        lambda w: reverse("audit_log"),
        None,
        [FORBIDDEN, OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN],
    ),
}

# The API has no endpoints for editing rules, borderline decisions, the import or the audit log; sending events
# (the API's way in for data) and reading leads stand in for them.
API = {
    "submit": (
        lambda w: reverse("api_scoring_version_submit", args=[w["draft"].pk]),
        {"change_note": "Weight intent more"},
        [FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN],
    ),
    "approve": (
        lambda w: reverse("api_scoring_version_approve", args=[w["submitted"].pk]),
        {"comment": "Fine"},
        [FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN],
    ),
    "reject": (
        lambda w: reverse("api_scoring_version_reject", args=[w["submitted"].pk]),
        {"comment": "Too generous"},
        [FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN, FORBIDDEN],
    ),
    "send events": (
        lambda w: reverse("api_event_ingest"),
        lambda w: [{"lead_id": w["lead"].pk, "kind": "page_view", "occurred_at": timezone.now().isoformat()}],
        [FORBIDDEN, ACCEPTED, ACCEPTED, ACCEPTED, FORBIDDEN, FORBIDDEN, FORBIDDEN],
    ),
    "read leads": (
        lambda w: reverse("api_lead_list"),
        None,
        [FORBIDDEN, OK, OK, OK, OK, OK, OK],
    ),
}


@pytest.mark.parametrize(
    ("action", "actor", "expected"),
    [
        pytest.param(action, actor, statuses[i], id=f"{action}-{actor}")
        for action, (_, _, _, statuses) in PAGES.items()
        for i, actor in enumerate(ACTORS)
    ],
)
def test_pages(client, actors, world, action, actor, expected):
    method, url, data, _ = PAGES[action]
    client.force_login(actors[actor])
    before = _state(world)
    response = client.post(url(world), data) if method == "post" else client.get(url(world))
    assert response.status_code == expected, response.content.decode()[:300]
    if expected == FORBIDDEN:
        assert _state(world) == before
    if expected == FOUND:
        assert not response.url.startswith(reverse("login")) and _state(world) != before


@pytest.mark.parametrize(
    ("action", "actor", "expected"),
    [
        pytest.param(action, actor, statuses[i], id=f"{action}-{actor}")
        for action, (_, _, statuses) in API.items()
        for i, actor in enumerate(ACTORS)
    ],
)
def test_api(actors, world, action, actor, expected):
    url, data, _ = API[action]
    client = APIClient()
    client.force_authenticate(actors[actor])
    before = _state(world)
    if data is None:
        response = client.get(url(world))
    else:
        response = client.post(url(world), data(world) if callable(data) else data, format="json")
    assert response.status_code == expected, response.content[:300]
    if expected == FORBIDDEN:
        assert _state(world) == before


def test_a_superuser_without_a_role_sees_no_leadops_pages_in_the_navigation(client, actors):
    client.force_login(actors["superuser"])
    assert [item["label"] for item in client.get(reverse("home")).context["nav_items"]] == ["Home"]
    client.force_login(actors["demo_admin"])
    labels = [item["label"] for item in client.get(reverse("home")).context["nav_items"]]
    assert labels == ["Home", "Leads", "Routing", "Team queues", "Rejections", "Service levels", "Import", "Audit log"]


def test_the_demo_admin_approves_nothing_but_still_opens_the_support_admin(client, actors, world):
    client.force_login(actors["demo_admin"])
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 200
    with pytest.raises(governance.GovernanceError, match="Your role does not allow"):
        governance.version_approve(version=world["submitted"], by=actors["demo_admin"])
    world["submitted"].refresh_from_db()
    assert (world["submitted"].status, world["submitted"].decided_by) == (VersionStatus.SUBMITTED, None)


# --- the one check ------------------------------------------------------------------------------------------------


def test_role_permissions_come_from_groups_and_the_persons_own_permissions_only(db):
    approve = "leadops.approve_scoring_rules"
    assert not has_role_perm(UserFactory(is_staff=True, is_superuser=True), approve)
    assert not has_role_perm(AnonymousUser(), approve)
    assert has_role_perm(UserFactory(role=roles.MANAGER), approve)
    assert not has_role_perm(UserFactory(role=roles.MANAGER, is_active=False), approve)
    given = UserFactory()
    given.user_permissions.add(Permission.objects.get(codename="approve_scoring_rules"))
    assert has_role_perm(given, approve)
    assert not has_role_perm(UserFactory(role=roles.MANAGER), "leadops.approve_scoring_rule")  # no prefix match


def test_leadops_checks_permissions_only_through_has_role_perm():
    """user.has_perm() says yes to every superuser; LeadOps code must ask has_role_perm() instead."""
    root = Path(settings.BASE_DIR)
    offenders = []
    for app in ("leadops", "scoring", "routing", "sla", "playbooks"):
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" in path.parts or path == root / "leadops" / "permissions.py":
                continue
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if re.search(r"\.has_perm\(|\.has_perms\(|\.get_all_permissions\(", line):
                    offenders.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert offenders == []
