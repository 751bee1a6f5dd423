"""Four eyes on loosening a service-level policy: a change that makes a policy less strict is stored, not applied, until
an admin or a sales manager who proposed neither it nor a change it replaced approves it. Tightening applies at once.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leadops import roles
from leadops.models import AuditEntry
from sla import selectors
from sla.models import SlaPolicy, SlaPolicyChange
from sla.services import (
    PolicyChangeError,
    policy_change_refusal,
    sla_policy_change_approve,
    sla_policy_change_reject,
    sla_policy_save,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PROPOSED_AT = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)
DECIDED_AT = dt.datetime(2026, 11, 30, 14, 30, tzinfo=dt.UTC)
# contact-hot as the migration installs it: 5 minutes on the wall clock, both told at breach, reassigned at twice.
HOT_LADDER = [
    {"at": 1, "action": "notify_owner"},
    {"at": 1, "action": "notify_manager"},
    {"at": 2, "action": "reassign"},
]


@pytest.fixture
def second_admin(db):
    return UserFactory(username="second_revops", role=roles.ADMIN)


@pytest.fixture
def superuser(db):
    """A support admin with no LeadOps role: the superuser flag counts for nothing here."""
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def co_proposer(db):
    """A sales manager who also configures policies: only four eyes keeps them from approving what they proposed."""
    user = UserFactory(username="manager_and_revops", role=roles.MANAGER)
    user.groups.add(Group.objects.get(name=roles.ADMIN))
    return user


@pytest.fixture
def hot(policies):
    return policies["contact-hot"]


def propose(policy, by, data, at=PROPOSED_AT):
    with time_machine.travel(at, tick=False):
        return sla_policy_save(by=by, policy=policy, data=data)


@pytest.fixture
def proposed(hot, admin_user):
    """RevOps proposes doubling the hot contact target to 10 minutes."""
    return propose(hot, admin_user, {"target": dt.timedelta(minutes=10)}).change


def hot_now():
    policy = SlaPolicy.objects.get(key="contact-hot")
    return policy.target, policy.business_time, policy.active, policy.ladder


UNCHANGED = (dt.timedelta(minutes=5), False, True, HOT_LADDER)


# --- what loosens and what does not ------------------------------------------------------------------------------


def test_a_loosening_change_is_stored_and_not_applied(proposed, admin_user):
    assert hot_now() == UNCHANGED
    assert (proposed.status, proposed.loosens) == ("pending", "target 0:05:00 -> 0:10:00")
    assert (proposed.proposed_by, proposed.proposed_at) == (admin_user, PROPOSED_AT)
    assert (proposed.data["target"], proposed.base["target"]) == (600, 300)
    assert list(proposed.contributors.all()) == [admin_user]
    entry = AuditEntry.objects.get(action="sla.policy_change_propose")
    assert (entry.actor, entry.reason) == (admin_user, "loosens: target 0:05:00 -> 0:10:00")
    assert entry.changes == {"target": ["0:05:00", "0:10:00"], "change": proposed.pk}
    assert not AuditEntry.objects.filter(action="sla.policy_save").exists()


@pytest.mark.parametrize(
    ("data", "loosens"),
    [
        ({"target": dt.timedelta(minutes=6)}, "target 0:05:00 -> 0:06:00"),
        ({"business_time": True}, "wall clock -> business time"),
        ({"ladder": HOT_LADDER[:2]}, "reassign removed"),
        ({"ladder": [*HOT_LADDER[:2], {"at": 3, "action": "reassign"}]}, "reassign at 2x -> 3x"),
        ({"active": False}, "switched off"),
        (
            {"target": dt.timedelta(hours=1), "ladder": [{"at": 1, "action": "notify_owner"}]},
            "target 0:05:00 -> 1:00:00; notify_manager removed; reassign removed",
        ),
    ],
)
def test_each_way_of_loosening_waits_for_approval(hot, admin_user, data, loosens):
    result = propose(hot, admin_user, data)
    assert not result.applied
    assert result.change.loosens == loosens
    assert hot_now() == UNCHANGED


@pytest.mark.parametrize(
    ("data", "after"),
    [
        ({"target": dt.timedelta(minutes=3)}, (dt.timedelta(minutes=3), False, True, HOT_LADDER)),
        (
            {"ladder": [*HOT_LADDER[:2], {"at": 1.5, "action": "reassign"}]},
            (dt.timedelta(minutes=5), False, True, [*HOT_LADDER[:2], {"at": 1.5, "action": "reassign"}]),
        ),
        (
            {"ladder": [*HOT_LADDER, {"at": 3, "action": "notify_manager"}]},
            (dt.timedelta(minutes=5), False, True, [*HOT_LADDER, {"at": 3, "action": "notify_manager"}]),
        ),
        ({"name": "Hot lead: call within 5 minutes"}, UNCHANGED),
    ],
)
def test_tightening_or_keeping_strictness_applies_at_once(hot, admin_user, data, after):
    result = propose(hot, admin_user, data)
    assert result.applied and result.change is None
    assert hot_now() == after
    assert not SlaPolicyChange.objects.exists()
    assert AuditEntry.objects.get(action="sla.policy_save").reason == ""


# --- who may decide ----------------------------------------------------------------------------------------------

# (may approve, what the page answers a POST with): the proposer is refused by four eyes, the roles without the
# permission by the page itself; a superuser without a role is nobody here.
MATRIX = [
    ("sdr", False, 403),
    ("other_sdr", False, 403),
    ("ae", False, 403),
    ("marketer", False, 403),
    ("outsider", False, 403),
    ("superuser", False, 403),
    ("admin", False, 302),  # the proposer
    ("manager", True, 302),
    ("second_admin", True, 302),
]


@pytest.fixture
def everyone(cast, second_admin, superuser, co_proposer):
    return {**cast, "second_admin": second_admin, "superuser": superuser, "co_proposer": co_proposer}


@pytest.mark.parametrize(("actor", "may", "status"), MATRIX)
def test_who_may_approve_a_loosening_change(client, everyone, proposed, actor, may, status):
    user = everyone[actor]
    assert (policy_change_refusal(change=proposed, by=user) is None) is may
    client.force_login(user)
    with time_machine.travel(DECIDED_AT, tick=False):
        response = client.post(reverse("sla:policy_change_approve", args=[proposed.pk]), {"note": "fine"})
    assert response.status_code == status
    proposed.refresh_from_db()
    assert proposed.status == ("approved" if may else "pending")
    assert hot_now()[0] == dt.timedelta(minutes=10 if may else 5)


@pytest.mark.parametrize(("actor", "may", "status"), MATRIX)
def test_who_may_reject_a_loosening_change(client, everyone, proposed, actor, may, status):
    client.force_login(everyone[actor])
    response = client.post(reverse("sla:policy_change_reject", args=[proposed.pk]), {"note": "Five minutes stands."})
    assert response.status_code == status
    proposed.refresh_from_db()
    assert proposed.status == ("rejected" if may else "pending")
    assert hot_now() == UNCHANGED


def test_the_proposer_is_told_why_they_cannot_decide(proposed, admin_user):
    for decide in (sla_policy_change_approve, sla_policy_change_reject):
        with pytest.raises(PolicyChangeError) as refused:
            decide(change=proposed, by=admin_user, note="mine")
        assert str(refused.value) == "You proposed this change; another person has to approve or reject it."
    assert hot_now() == UNCHANGED


def test_a_superuser_without_a_role_cannot_approve(proposed, superuser):
    with pytest.raises(PolicyChangeError) as refused:
        sla_policy_change_approve(change=proposed, by=superuser)
    assert str(refused.value) == "Your role does not allow you to approve or reject service-level policy changes."
    assert hot_now() == UNCHANGED


def test_a_second_proposal_replaces_the_first_and_neither_proposer_decides(hot, proposed, admin_user, co_proposer):
    later = PROPOSED_AT + dt.timedelta(hours=1)
    second = propose(hot, co_proposer, {"target": dt.timedelta(minutes=8)}, at=later).change
    proposed.refresh_from_db()
    assert (proposed.status, proposed.decided_at, proposed.decided_by) == ("superseded", later, co_proposer)
    assert (second.status, second.replaces, second.loosens) == ("pending", proposed, "target 0:05:00 -> 0:08:00")
    assert {user.username for user in second.contributors.all()} == {"revops", "manager_and_revops"}
    # The co-proposer's role lets them approve changes, but not this one: they proposed it with RevOps.
    assert policy_change_refusal(change=second, by=co_proposer) == (
        "You proposed this change; another person has to approve or reject it."
    )
    assert policy_change_refusal(change=second, by=admin_user) == (
        "You proposed a change it replaced; another person has to approve or reject it."
    )
    with pytest.raises(PolicyChangeError):
        sla_policy_change_approve(change=second, by=admin_user)
    assert hot_now() == UNCHANGED
    assert AuditEntry.objects.filter(action="sla.policy_change_propose").count() == 2


def test_a_co_proposer_cannot_approve_on_the_page_either(client, hot, proposed, co_proposer):
    second = propose(hot, co_proposer, {"target": dt.timedelta(minutes=8)}).change
    client.force_login(co_proposer)
    response = client.post(reverse("sla:policy_change_approve", args=[second.pk]), follow=True)
    assert "You proposed this change; another person has to approve or reject it." in response.content.decode()
    assert hot_now() == UNCHANGED


def test_a_third_person_approves_the_replacing_change(hot, proposed, co_proposer, manager):
    second = propose(hot, co_proposer, {"target": dt.timedelta(minutes=8)}).change
    sla_policy_change_approve(change=second, by=manager)
    assert hot_now()[0] == dt.timedelta(minutes=8)


def test_the_list_of_changes_to_decide_and_the_service_agree_for_everyone(everyone, hot, proposed):
    warm = SlaPolicy.objects.get(key="contact-warm")
    by_manager_and_revops = propose(warm, everyone["co_proposer"], {"active": False}).change
    for user in everyone.values():
        listed = set(selectors.policy_changes_to_decide(user=user))
        for change in (proposed, by_manager_and_revops):
            assert (change in listed) == (policy_change_refusal(change=change, by=user) is None), user.username


# --- approving and rejecting -------------------------------------------------------------------------------------


def test_approving_applies_the_change_and_both_steps_are_audited(proposed, admin_user, manager):
    with time_machine.travel(DECIDED_AT, tick=False):
        sla_policy_change_approve(change=proposed, by=manager, note="Reps are on calls all morning.")
    assert hot_now() == (dt.timedelta(minutes=10), False, True, HOT_LADDER)
    proposed.refresh_from_db()
    assert (proposed.status, proposed.decided_by, proposed.decided_at) == ("approved", manager, DECIDED_AT)
    assert proposed.decision_note == "Reps are on calls all morning."
    actions = list(AuditEntry.objects.filter(action__startswith="sla.policy").order_by("at").values_list("action"))
    assert actions == [("sla.policy_change_propose",), ("sla.policy_change_approve",)]
    entry = AuditEntry.objects.get(action="sla.policy_change_approve")
    assert entry.actor == manager and entry.at == DECIDED_AT
    assert entry.changes == {"target": ["0:05:00", "0:10:00"], "change": proposed.pk}
    assert entry.reason == (
        f"approves change {proposed.pk} proposed by {admin_user.get_full_name()}; loosens: target 0:05:00 -> 0:10:00; "
        "Reps are on calls all morning."
    )


def test_rejecting_needs_a_reason_and_leaves_the_policy_as_it_is(proposed, admin_user, second_admin):
    with pytest.raises(PolicyChangeError) as refused:
        sla_policy_change_reject(change=proposed, by=second_admin, note="  ")
    assert refused.value.field == "note"
    with time_machine.travel(DECIDED_AT, tick=False):
        sla_policy_change_reject(change=proposed, by=second_admin, note="Hot leads go cold in minutes.")
    proposed.refresh_from_db()
    assert (proposed.status, proposed.decided_by, proposed.decided_at) == ("rejected", second_admin, DECIDED_AT)
    assert hot_now() == UNCHANGED
    entry = AuditEntry.objects.get(action="sla.policy_change_reject")
    assert entry.reason == (
        f"rejects change {proposed.pk} proposed by {admin_user.get_full_name()}: Hot leads go cold in minutes."
    )


def test_a_decided_change_is_not_decided_again(proposed, manager, second_admin):
    sla_policy_change_approve(change=proposed, by=manager)
    with pytest.raises(PolicyChangeError) as refused:
        sla_policy_change_reject(change=proposed, by=second_admin, note="too late")
    assert str(refused.value) == "This change is approved and applied, not waiting for approval."


def test_a_tightening_of_other_fields_meanwhile_is_kept_when_the_change_is_approved(hot, proposed, admin_user, manager):
    faster = [*HOT_LADDER[:2], {"at": 1.5, "action": "reassign"}]
    assert propose(hot, admin_user, {"ladder": faster}).applied
    sla_policy_change_approve(change=proposed, by=manager)
    assert hot_now() == (dt.timedelta(minutes=10), False, True, faster)


def test_approving_is_refused_when_the_policy_changed_the_same_field_meanwhile(hot, proposed, admin_user, manager):
    assert propose(hot, admin_user, {"target": dt.timedelta(minutes=3)}).applied
    with pytest.raises(PolicyChangeError) as refused:
        sla_policy_change_approve(change=proposed, by=manager)
    assert str(refused.value) == (
        "Time to contact, hot lead was changed after this proposal (target), so it no longer applies cleanly. "
        "Reject it and propose the change again from the policy as it is now."
    )
    proposed.refresh_from_db()
    assert proposed.status == "pending"
    assert hot_now()[0] == dt.timedelta(minutes=3)
    assert not AuditEntry.objects.filter(action="sla.policy_change_approve").exists()


# --- the pages ---------------------------------------------------------------------------------------------------


def test_the_proposer_is_told_the_change_waits_for_a_second_person(client, admin_user, policies):
    client.force_login(admin_user)
    url = reverse("sla:policy_edit", args=["contact-hot"])
    data = {"name": "Time to contact, hot lead", "target_minutes": 10, "active": "on", "ladder": "[]"}
    page = client.post(url, data, follow=True).content.decode()
    assert (
        "This change loosens Time to contact, hot lead (target 0:05:00 -&gt; 0:10:00; notify_manager removed; "
        "notify_owner removed; reassign removed), so it is waiting for a second person&#x27;s approval"
    ) in page
    assert page.count('data-testid="policy-change"') == 1
    assert 'data-testid="policy-change-waiting"' in page
    assert 'data-testid="policy-change-decide"' not in page
    assert 'data-testid="policy-pending"' in page


def test_another_admin_sees_the_pending_change_with_the_buttons(client, proposed, second_admin):
    client.force_login(second_admin)
    page = client.get(reverse("sla:policy_list")).content.decode()
    assert page.count('data-testid="policy-change"') == 1
    assert '<span data-testid="policy-change-loosens">target 0:05:00 -&gt; 0:10:00</span>' in page
    assert reverse("sla:policy_change_approve", args=[proposed.pk]) in page
    assert reverse("sla:policy_change_reject", args=[proposed.pk]) in page


def test_a_manager_is_pointed_to_the_change_and_decides_it_on_the_changes_page(client, proposed, manager):
    client.force_login(manager)
    board = client.get(reverse("sla:team_board")).content.decode()
    assert 'data-testid="policy-changes-to-decide"' in board
    page = client.get(reverse("sla:policy_changes")).content.decode()
    assert 'data-testid="policy-change-decide"' in page
    with time_machine.travel(DECIDED_AT, tick=False):
        response = client.post(
            reverse("sla:policy_change_approve", args=[proposed.pk]),
            {"note": "ok", "next": reverse("sla:policy_changes")},
            follow=True,
        )
    assert response.redirect_chain[-1][0] == reverse("sla:policy_changes")
    page = response.content.decode()
    assert "Change approved: Time to contact, hot lead now applies it (target 0:05:00 -&gt; 0:10:00)." in page
    assert page.count('data-testid="decided-change"') == 1
    assert 'data-testid="no-pending-change"' in page


def test_the_manager_who_proposed_nothing_sees_no_prompt_once_it_is_decided(client, proposed, manager, second_admin):
    sla_policy_change_reject(change=proposed, by=second_admin, note="no")
    client.force_login(manager)
    assert 'data-testid="policy-changes-to-decide"' not in client.get(reverse("sla:team_board")).content.decode()


@pytest.mark.parametrize(("actor", "status"), [(actor, 403 if status == 403 else 200) for actor, _, status in MATRIX])
def test_the_changes_page_by_role(client, everyone, proposed, actor, status):
    client.force_login(everyone[actor])
    assert client.get(reverse("sla:policy_changes")).status_code == status


def test_a_get_does_not_decide(client, proposed, manager):
    client.force_login(manager)
    assert client.get(reverse("sla:policy_change_approve", args=[proposed.pk])).status_code == 405
    proposed.refresh_from_db()
    assert proposed.status == "pending"


def test_rejecting_on_the_page_without_a_note_says_so(client, proposed, manager):
    client.force_login(manager)
    response = client.post(reverse("sla:policy_change_reject", args=[proposed.pk]), {"note": ""}, follow=True)
    assert "Say why the change is rejected, for the person who proposed it." in response.content.decode()
    proposed.refresh_from_db()
    assert proposed.status == "pending"


def test_the_page_goes_back_only_to_this_site(client, proposed, manager):
    client.force_login(manager)
    response = client.post(
        reverse("sla:policy_change_reject", args=[proposed.pk]), {"note": "no", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("sla:policy_changes")


def test_the_policies_and_changes_pages_cost_the_same_with_one_pending_change_or_many(
    client, policies, proposed, second_admin, co_proposer
):
    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        return len(captured), response.content.decode().count('data-testid="policy-change"')

    client.force_login(second_admin)
    one = {url: queries(url) for url in (reverse("sla:policy_list"), reverse("sla:policy_changes"))}
    for key in ("contact-warm", "contact-cold", "ae-review"):
        propose(SlaPolicy.objects.get(key=key), co_proposer, {"active": False})
    propose(SlaPolicy.objects.get(key="contact-hot"), co_proposer, {"target": dt.timedelta(minutes=7)})
    for url, (count, shown) in one.items():
        assert shown == 1
        assert queries(url) == (count, 4)
