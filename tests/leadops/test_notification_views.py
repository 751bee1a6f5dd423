"""The notification centre: the bell's count, the list, marking read, e-mail settings; each person sees only theirs."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from leadops.context_processors import navigation
from leadops.models import Notification, NotificationPreference
from leadops.notifications import NOTIFICATION_KINDS, notification_send
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = ["sdr", "other_sdr", "ae", "manager", "marketer", "admin", "outsider"]
LIST = "/notifications/"
READ = "/notifications/read/"
READ_ALL = "/notifications/read-all/"
SETTINGS = "/notifications/settings/"


@pytest.fixture
def inboxes(cast):
    """Two notifications for every member of the cast, one of them unread, each naming its recipient."""
    made = {}
    for name, user in cast.items():
        read = notification_send(recipient=user, kind="sla_breach", message=f"Old news for {name}")
        Notification.objects.filter(pk=read.pk).update(read_at=timezone.now() - timedelta(days=1))
        read.refresh_from_db()
        unread = notification_send(recipient=user, kind="lead_assigned", message=f"A lead for {name}")
        made[name] = {"read": read, "unread": unread}
    return made


def test_the_urls_are_where_the_navigation_says():
    assert reverse("notification_list") == LIST
    assert reverse("notification_read") == READ
    assert reverse("notification_read_all") == READ_ALL
    assert reverse("notification_settings") == SETTINGS


# --- who may use it ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,url", [("get", LIST), ("get", SETTINGS), ("post", READ), ("post", READ_ALL), ("post", SETTINGS)]
)
def test_anonymous_visitors_are_sent_to_log_in(client, method, url):
    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response.url == f"/login/?next={url}"


@pytest.mark.parametrize("role", ROLES)
def test_every_signed_in_person_sees_their_own_notifications_and_nobody_elses(client, cast, inboxes, role):
    client.force_login(cast[role])

    response = client.get(LIST)

    assert response.status_code == 200
    shown = [n.message for n in response.context["page"].object_list]
    assert shown == [f"A lead for {role}", f"Old news for {role}"]
    html = response.content.decode()
    for other in ROLES:
        if other != role:
            assert f"A lead for {other}<" not in html


@pytest.mark.parametrize("role", ROLES)
def test_marking_someone_elses_notification_read_is_a_404_and_changes_nothing(client, cast, inboxes, role):
    victim = "other_sdr" if role == "sdr" else "sdr"
    theirs = inboxes[victim]["unread"]
    client.force_login(cast[role])

    response = client.post(READ, {"notification": theirs.pk})

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize("value", ["", "abc", "999999", "-1", "1.5", "99999999999999999999", "9223372036854775808"])
def test_marking_a_missing_or_malformed_id_read_is_a_404(client, sdr, value):
    client.force_login(sdr)

    assert client.post(READ, {"notification": value}).status_code == 404


def test_the_list_and_mark_read_refuse_the_wrong_method(client, sdr):
    client.force_login(sdr)

    assert client.post(LIST).status_code == 405
    assert client.get(READ).status_code == 405
    assert client.get(READ_ALL).status_code == 405


# --- the list -------------------------------------------------------------------------------------------------


def test_the_list_is_newest_first_with_unread_highlighted_and_linked_to_the_lead(client, sdr):
    lead = LeadFactory(owner=sdr, first_name="Ada", last_name="Lovelace")
    older = notification_send(recipient=sdr, kind="sla_breach", message="First contact is late")
    Notification.objects.filter(pk=older.pk).update(
        created_at=timezone.now() - timedelta(hours=2), read_at=timezone.now()
    )
    newer = notification_send(recipient=sdr, kind="lead_assigned", message="Ada Lovelace is yours", lead=lead)
    client.force_login(sdr)

    response = client.get(LIST)

    assert [n.pk for n in response.context["page"].object_list] == [newer.pk, older.pk]
    html = response.content.decode()
    assert html.index("Ada Lovelace is yours") < html.index("First contact is late")
    assert f'href="/leads/{lead.pk}/"' in html
    assert html.count('data-testid="notification-row"') == 2
    assert html.count(">New</span>") == 1  # the unread one only
    assert html.count("Mark read<") == 1
    assert "A lead was assigned to you" in html  # the kind's label


def test_the_list_is_paginated_25_to_a_page(client, sdr):
    for i in range(30):
        notification_send(recipient=sdr, kind="sla_breach", message=f"Breach {i}")
    client.force_login(sdr)

    first = client.get(LIST)
    second = client.get(LIST, {"page": 2})

    assert len(first.context["page"].object_list) == 25
    assert [n.message for n in second.context["page"].object_list] == [f"Breach {i}" for i in range(4, -1, -1)]


def test_the_list_takes_the_same_queries_for_2_or_30_notifications(
    client, sdr, django_assert_max_num_queries, django_assert_num_queries
):
    client.force_login(sdr)
    for i in range(2):
        notification_send(recipient=sdr, kind="lead_assigned", message=f"Lead {i}", lead=LeadFactory(owner=sdr))
    # session, user, page count, page rows with their leads, role permissions, role, the bell's unread COUNT, the
    # navigation's "My queue" COUNT
    with django_assert_max_num_queries(8) as few:
        client.get(LIST)
    for i in range(28):
        notification_send(recipient=sdr, kind="lead_assigned", message=f"Lead {i}", lead=LeadFactory(owner=sdr))

    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(LIST)

    assert len(response.context["page"].object_list) == 25


def test_an_empty_inbox_says_so(client, sdr):
    client.force_login(sdr)

    response = client.get(LIST)

    assert "No notifications yet." in response.content.decode()


# --- the bell -----------------------------------------------------------------------------------------------


def test_the_bell_shows_the_unread_count_in_words_for_screen_readers(client, sdr, inboxes):
    notification_send(recipient=sdr, kind="sla_breach", message="Another")
    client.force_login(sdr)

    html = client.get("/").content.decode()

    assert '2<span class="visually-hidden"> unread notifications</span>' in html


def test_the_bell_says_none_unread_when_all_are_read(client, sdr):
    client.force_login(sdr)

    html = client.get("/").content.decode()

    assert "Notifications, none unread" in html
    assert "unread notifications<" not in html


def test_the_bell_shows_99_plus_beyond_99(client, sdr):
    Notification.objects.bulk_create(
        [Notification(recipient=sdr, kind="sla_breach", message=f"n{i}") for i in range(100)]
    )
    client.force_login(sdr)

    html = client.get("/").content.decode()

    assert '99+<span class="visually-hidden"> unread notifications</span>' in html


def test_the_unread_count_is_one_count_query_taken_only_when_shown(sdr, inboxes, django_assert_max_num_queries):
    request = RequestFactory().get("/")
    request.user = sdr
    request.resolver_match = None
    context = navigation(request)

    with django_assert_max_num_queries(1) as captured:
        assert context["notification_unread_count"] == 1
        assert str(context["notification_unread_count"]) == "1"  # evaluated once, then remembered

    assert "COUNT(" in captured.captured_queries[0]["sql"].upper()


def test_an_anonymous_visitor_has_no_bell():
    request = RequestFactory().get("/login/")
    request.user = AnonymousUser()

    assert "notification_unread_count" not in navigation(request)


def test_the_login_page_shows_no_bell(client):
    assert "notification-bell" not in client.get("/login/").content.decode()


# --- marking read ------------------------------------------------------------------------------------------


def test_marking_read_without_htmx_returns_to_the_page_it_came_from(client, sdr, inboxes):
    unread = inboxes["sdr"]["unread"]
    client.force_login(sdr)

    response = client.post(READ, {"notification": unread.pk, "next": "/notifications/?page=2"})

    assert response.status_code == 302
    assert response.url == "/notifications/?page=2"
    unread.refresh_from_db()
    assert unread.read_at is not None


def test_marking_read_never_redirects_to_another_site(client, sdr, inboxes):
    client.force_login(sdr)

    response = client.post(READ, {"notification": inboxes["sdr"]["unread"].pk, "next": "https://evil.example/"})

    assert response.url == LIST


def test_marking_read_with_htmx_swaps_the_row_and_the_bell(client, sdr, inboxes):
    unread = inboxes["sdr"]["unread"]
    notification_send(recipient=sdr, kind="sla_breach", message="Still unread")
    client.force_login(sdr)

    response = client.post(READ, {"notification": unread.pk}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<li id="notification-{unread.pk}"')
    assert "Mark read<" not in html
    # Both bells (the bar's on a narrow window, the menu's on a wide one) are replaced out of band.
    assert '<div id="nav-notifications-narrow" class="navbar-nav d-md-none ms-auto me-1" hx-swap-oob="true">' in html
    assert '<div id="nav-notifications" class="navbar-nav d-none d-md-flex me-2" hx-swap-oob="true">' in html
    assert html.count('1<span class="visually-hidden"> unread notifications</span>') == 2
    unread.refresh_from_db()
    assert unread.read_at is not None


def test_marking_a_read_notification_again_keeps_its_first_read_time(client, sdr, inboxes):
    read = inboxes["sdr"]["read"]
    first_read_at = read.read_at
    client.force_login(sdr)

    client.post(READ, {"notification": read.pk})

    read.refresh_from_db()
    assert read.read_at == first_read_at


def test_mark_all_read_marks_only_the_persons_own(client, sdr, other_sdr, inboxes):
    notification_send(recipient=sdr, kind="sla_breach", message="Second unread")
    client.force_login(sdr)

    response = client.post(READ_ALL, follow=True)

    assert Notification.objects.filter(recipient=sdr, read_at__isnull=True).count() == 0
    assert Notification.objects.filter(recipient=other_sdr, read_at__isnull=True).count() == 1
    assert "Marked 2 notifications read." in response.content.decode()
    assert "Notifications, none unread" in response.content.decode()


# --- e-mail settings -------------------------------------------------------------------------------------------


def test_the_settings_page_lists_every_kind_checked_by_default(client, sdr):
    client.force_login(sdr)

    response = client.get(SETTINGS)

    html = response.content.decode()
    for kind in NOTIFICATION_KINDS.values():
        assert kind.label in html
    assert html.count(" checked>") == len(NOTIFICATION_KINDS)


def test_the_settings_page_offers_the_core_and_service_level_kinds_by_their_labels(client, sdr):
    client.force_login(sdr)

    html = client.get(SETTINGS).content.decode()

    for name, label in [
        ("lead_assigned", "A lead was assigned to you"),
        ("lead_reassigned", "A lead was reassigned to or from you"),
        ("sla_breach", "A service-level clock was breached"),
        ("approval_requested", "A scoring version awaits your approval"),
        ("version_decided", "A scoring version you worked on was decided"),
        ("dispute_opened", "An ownership dispute was opened"),
        ("dispute_resolved", "An ownership dispute was resolved"),
        ("sla_escalation", "A service level of your team was breached or escalated"),
    ]:
        assert f'name="{name}"' in html and label in html


def test_saving_the_settings_mutes_the_unchecked_kinds(client, sdr, mailoutbox, django_capture_on_commit_callbacks):
    client.force_login(sdr)
    kept = {kind: "on" for kind in NOTIFICATION_KINDS if kind != "sla_breach"}

    response = client.post(SETTINGS, kept)

    assert response.status_code == 302
    assert response.url == SETTINGS
    assert NotificationPreference.objects.get(user=sdr, kind="sla_breach").email is False
    assert NotificationPreference.objects.get(user=sdr, kind="lead_assigned").email is True
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(recipient=sdr, kind="sla_breach", message="Late")
        notification_send(recipient=sdr, kind="lead_assigned", message="Yours")
    assert [mail.subject for mail in mailoutbox] == ["[LeadOps] A lead was assigned to you"]
    page = client.get(SETTINGS).content.decode()
    assert 'id="id_sla_breach">' in page  # shown unchecked
    assert page.count(" checked>") == len(NOTIFICATION_KINDS) - 1


def test_saving_the_settings_again_turns_email_back_on(client, sdr):
    NotificationPreference.objects.create(user=sdr, kind="sla_breach", email=False)
    client.force_login(sdr)

    client.post(SETTINGS, {kind: "on" for kind in NOTIFICATION_KINDS})

    assert NotificationPreference.objects.get(user=sdr, kind="sla_breach").email is True
    assert NotificationPreference.objects.filter(user=sdr).count() == len(NOTIFICATION_KINDS)


def test_ones_settings_do_not_touch_anyone_elses(client, sdr, other_sdr):
    client.force_login(sdr)

    client.post(SETTINGS, {})

    assert NotificationPreference.objects.filter(user=other_sdr).count() == 0
    assert NotificationPreference.objects.filter(user=sdr, email=False).count() == len(NOTIFICATION_KINDS)


# --- the support admin -----------------------------------------------------------------------------------------


def test_support_reads_notifications_but_cannot_add_change_or_delete_them(client, sdr):
    notification = notification_send(recipient=sdr, kind="sla_breach", message="Late")
    client.force_login(UserFactory(username="support", is_staff=True, is_superuser=True))

    assert client.get(f"/admin/leadops/notification/{notification.pk}/change/").status_code == 200
    assert client.get("/admin/leadops/notification/add/").status_code == 403
    client.post(f"/admin/leadops/notification/{notification.pk}/change/", {"message": "Edited"})
    assert client.post(f"/admin/leadops/notification/{notification.pk}/delete/", {"post": "yes"}).status_code == 403
    notification.refresh_from_db()
    assert notification.message == "Late"
