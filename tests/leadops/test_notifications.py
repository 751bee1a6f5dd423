"""notification_send: a row for the recipient, e-mail after commit unless muted, unknown kinds refused, dedupe."""

import logging

import pytest

from leadops import notifications
from leadops.models import Notification, NotificationPreference
from leadops.notifications import notification_kind_register, notification_send
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_send_stores_a_notification_for_the_recipient(sdr, manager):
    lead = LeadFactory(owner=sdr)

    notification = notification_send(
        recipient=sdr, kind="lead_assigned", message="Ada Lovelace (Acme) is yours.", lead=lead, actor=manager
    )

    stored = Notification.objects.get()
    assert stored == notification
    assert (stored.recipient, stored.kind, stored.message) == (sdr, "lead_assigned", "Ada Lovelace (Acme) is yours.")
    assert stored.lead == lead
    assert stored.actor == manager
    assert stored.link == f"/leads/{lead.pk}/"
    assert stored.read_at is None
    assert stored.created_at is not None


def test_an_explicit_link_is_kept(sdr):
    notification = notification_send(
        recipient=sdr, kind="approval_requested", message="v7 awaits you", link="/scoring/approvals/"
    )

    assert notification.link == "/scoring/approvals/"
    assert notification.lead is None


def test_email_is_sent_only_after_the_transaction_commits(sdr, mailoutbox, django_capture_on_commit_callbacks):
    lead = LeadFactory(owner=sdr)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification_send(recipient=sdr, kind="lead_assigned", message="Ada Lovelace is yours.", lead=lead)
    assert mailoutbox == []
    assert len(callbacks) == 1

    callbacks[0]()

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["sdr@leadops.test"]
    assert mail.subject == "[LeadOps] A lead was assigned to you"
    assert mail.from_email == "LeadOps <leadops@localhost>"
    assert "Ada Lovelace is yours." in mail.body
    assert f"/leads/{lead.pk}/" in mail.body


def test_a_muted_kind_sends_no_email_but_still_notifies(sdr, mailoutbox, django_capture_on_commit_callbacks):
    NotificationPreference.objects.create(user=sdr, kind="sla_breach", email=False)

    with django_capture_on_commit_callbacks(execute=True):
        notification_send(recipient=sdr, kind="sla_breach", message="First contact is 10 minutes late.")

    assert mailoutbox == []
    assert Notification.objects.filter(recipient=sdr, kind="sla_breach").count() == 1


def test_muting_one_kind_leaves_the_others_on(sdr, mailoutbox, django_capture_on_commit_callbacks):
    NotificationPreference.objects.create(user=sdr, kind="sla_breach", email=False)

    with django_capture_on_commit_callbacks(execute=True):
        notification_send(recipient=sdr, kind="lead_assigned", message="A lead is yours.")

    assert [mail.subject for mail in mailoutbox] == ["[LeadOps] A lead was assigned to you"]


def test_a_recipient_without_an_email_address_gets_no_email(mailoutbox, django_capture_on_commit_callbacks):
    nobody = UserFactory(username="no_mail", email="")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification_send(recipient=nobody, kind="lead_assigned", message="A lead is yours.")

    assert callbacks == []
    assert mailoutbox == []
    assert Notification.objects.filter(recipient=nobody).count() == 1


def test_an_unknown_kind_is_refused_naming_the_known_kinds(sdr):
    with pytest.raises(ValueError) as refused:
        notification_send(recipient=sdr, kind="lead_asigned", message="typo")

    assert "lead_asigned" in str(refused.value)
    assert "lead_assigned" in str(refused.value)
    assert "sla_breach" in str(refused.value)
    assert Notification.objects.count() == 0


def test_the_same_dedupe_key_notifies_and_emails_once(sdr, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = notification_send(recipient=sdr, kind="sla_breach", message="Late.", dedupe_key="sla:41:breach")
    with django_capture_on_commit_callbacks(execute=True):
        second = notification_send(recipient=sdr, kind="sla_breach", message="Late.", dedupe_key="sla:41:breach")

    assert second == first
    assert Notification.objects.count() == 1
    assert len(mailoutbox) == 1


def test_a_dedupe_key_is_per_recipient(sdr, manager, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(recipient=sdr, kind="sla_breach", message="Late.", dedupe_key="sla:41:breach")
        notification_send(recipient=manager, kind="sla_breach", message="Late.", dedupe_key="sla:41:breach")

    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == ["manager", "sdr"]
    assert sorted(mail.to[0] for mail in mailoutbox) == ["manager@leadops.test", "sdr@leadops.test"]


def test_without_a_dedupe_key_every_call_notifies(sdr):
    notification_send(recipient=sdr, kind="sla_breach", message="Late.")
    notification_send(recipient=sdr, kind="sla_breach", message="Late.")

    assert Notification.objects.filter(recipient=sdr).count() == 2


def test_an_email_failure_is_logged_and_not_raised(sdr, monkeypatch, caplog, django_capture_on_commit_callbacks):
    def broken_send_mail(**kwargs):
        raise ConnectionRefusedError("SMTP is down")

    monkeypatch.setattr(notifications, "send_mail", broken_send_mail)

    with caplog.at_level(logging.ERROR, logger="leadops.notifications"):
        with django_capture_on_commit_callbacks(execute=True):
            notification = notification_send(recipient=sdr, kind="lead_assigned", message="A lead is yours.")

    assert Notification.objects.filter(pk=notification.pk).exists()
    assert f"Could not e-mail notification {notification.pk}" in caplog.text


def test_an_app_registers_its_own_kind_with_email_off_by_default(
    sdr, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(notifications, "NOTIFICATION_KINDS", dict(notifications.NOTIFICATION_KINDS))
    notification_kind_register("playbook_due", "A playbook step is due", email_default=False)

    with django_capture_on_commit_callbacks(execute=True):
        notification_send(recipient=sdr, kind="playbook_due", message="Call step 2.")

    assert Notification.objects.filter(kind="playbook_due").count() == 1
    assert mailoutbox == []


def test_registering_a_taken_kind_differently_is_refused(monkeypatch):
    monkeypatch.setattr(notifications, "NOTIFICATION_KINDS", dict(notifications.NOTIFICATION_KINDS))

    notification_kind_register("sla_breach", "A service-level clock was breached", True)  # same: harmless
    with pytest.raises(ValueError, match="already registered"):
        notification_kind_register("sla_breach", "Something else", True)


# --- several at once (notifications_send) ----------------------------------------------------------------------------


def test_several_notifications_are_stored_with_one_insert_and_emailed_after_commit(
    sdr, manager, mailoutbox, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from leadops.notifications import NotificationDraft, notifications_send

    lead = LeadFactory(owner=sdr)
    drafts = [
        NotificationDraft(recipient=sdr, kind="sla_breach", message="Late.", lead=lead, dedupe_key="sla:7:1"),
        NotificationDraft(recipient=manager, kind="sla_breach", message="Late, your team.", lead=lead),
    ]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with CaptureQueriesContext(connection) as queries:
            sent = notifications_send(drafts)
    inserts = [query["sql"] for query in queries if query["sql"].startswith("INSERT")]

    assert len(inserts) == 1
    assert [(n.recipient, n.message, n.link, n.dedupe_key) for n in Notification.objects.order_by("pk")] == [
        (sdr, "Late.", f"/leads/{lead.pk}/", "sla:7:1"),
        (manager, "Late, your team.", f"/leads/{lead.pk}/", ""),
    ]
    assert [n.pk for n in sent] == list(Notification.objects.order_by("pk").values_list("pk", flat=True))
    assert mailoutbox == []
    assert len(callbacks) == 1

    callbacks[0]()

    assert sorted(mail.to[0] for mail in mailoutbox) == ["manager@leadops.test", "sdr@leadops.test"]
    assert {mail.subject for mail in mailoutbox} == {"[LeadOps] A service-level clock was breached"}


def test_several_at_once_email_nobody_muted_inactive_or_without_an_address_but_store_them_all(
    sdr, manager, mailoutbox, django_capture_on_commit_callbacks
):
    from leadops.notifications import NotificationDraft, notifications_send

    NotificationPreference.objects.create(user=sdr, kind="sla_breach", email=False)
    gone = UserFactory(username="gone", is_active=False)
    no_mail = UserFactory(username="no_mail", email="")

    with django_capture_on_commit_callbacks(execute=True):
        notifications_send(
            [NotificationDraft(recipient=user, kind="sla_breach", message="Late.") for user in (sdr, gone, no_mail)]
            + [NotificationDraft(recipient=manager, kind="sla_breach", message="Late.")]
        )

    assert Notification.objects.count() == 4
    assert [mail.to for mail in mailoutbox] == [["manager@leadops.test"]]


def test_several_at_once_follow_the_email_choices_given_and_look_up_the_people_missing(
    sdr, manager, mailoutbox, django_capture_on_commit_callbacks
):
    from leadops.notifications import NotificationDraft, notification_email_choices_of, notifications_send

    NotificationPreference.objects.create(user=manager, kind="sla_breach", email=False)
    choices = notification_email_choices_of(user_ids=[sdr.pk], kinds=["sla_breach", "lead_assigned"])
    assert choices == {(sdr.pk, "sla_breach"): True, (sdr.pk, "lead_assigned"): True}

    with django_capture_on_commit_callbacks(execute=True):
        notifications_send(
            [
                NotificationDraft(recipient=sdr, kind="sla_breach", message="Late."),
                NotificationDraft(recipient=manager, kind="sla_breach", message="Late."),  # not in `choices`
            ],
            email_choices={**choices, (sdr.pk, "sla_breach"): False},  # as if sdr muted it since they were read
        )

    assert Notification.objects.count() == 2
    assert mailoutbox == []


def test_several_at_once_with_a_dedupe_key_used_before_return_the_first_and_email_it_once(
    sdr, manager, mailoutbox, django_capture_on_commit_callbacks
):
    from leadops.notifications import NotificationDraft, notifications_send

    with django_capture_on_commit_callbacks(execute=True):
        first = notification_send(recipient=sdr, kind="sla_breach", message="Late.", dedupe_key="sla:41:breach")
    with django_capture_on_commit_callbacks(execute=True):
        again, other = notifications_send(
            [
                NotificationDraft(recipient=sdr, kind="sla_breach", message="Late.", dedupe_key="sla:41:breach"),
                NotificationDraft(recipient=manager, kind="sla_breach", message="Late.", dedupe_key="sla:41:breach"),
            ]
        )

    assert again == first
    assert other.recipient == manager
    assert Notification.objects.count() == 2
    assert sorted(mail.to[0] for mail in mailoutbox) == ["manager@leadops.test", "sdr@leadops.test"]


def test_several_at_once_with_an_unknown_kind_store_nothing(sdr):
    from leadops.notifications import NotificationDraft, notifications_send

    with pytest.raises(ValueError, match="lead_asigned"):
        notifications_send(
            [
                NotificationDraft(recipient=sdr, kind="sla_breach", message="Late."),
                NotificationDraft(recipient=sdr, kind="lead_asigned", message="typo"),
            ]
        )

    assert Notification.objects.count() == 0


def test_an_email_failure_in_a_batch_is_logged_and_the_others_are_still_sent(
    sdr, manager, monkeypatch, caplog, mailoutbox, django_capture_on_commit_callbacks
):
    from leadops.notifications import NotificationDraft, notifications_send

    real = notifications.send_mail

    def refuses_sdr(**kwargs):
        if kwargs["recipient_list"] == ["sdr@leadops.test"]:
            raise ConnectionRefusedError("mailbox full")
        return real(**kwargs)

    monkeypatch.setattr(notifications, "send_mail", refuses_sdr)

    with caplog.at_level(logging.ERROR, logger="leadops.notifications"):
        with django_capture_on_commit_callbacks(execute=True):
            to_sdr, _to_manager = notifications_send(
                [NotificationDraft(recipient=user, kind="sla_breach", message="Late.") for user in (sdr, manager)]
            )

    assert f"Could not e-mail notification {to_sdr.pk}" in caplog.text
    assert [mail.to for mail in mailoutbox] == [["manager@leadops.test"]]
