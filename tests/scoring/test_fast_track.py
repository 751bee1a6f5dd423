"""Hand-raisers: a demo request, a contact-sales form or an RFP makes a fitting lead an SQL at once, with the reason.

Expected scores are worked out by hand from the default model (scoring/migrations/0002 and 0005):
fit = revenue $10M-$1B 25 + 50-10,000 employees 20 + target industry 20 + Director 15 + buying department 10 = 90;
a demo request today is worth 50 buying points; total = 0.4 x 90 + 0.1 x 50 = 41, below the MQL cut-off of 50.
"""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from leadops.models import Lead, StageTransition
from leadops.rules import Stage
from scoring.models import BorderlineReview
from scoring.services import aggregates, pending
from tests.factories import AccountFactory, LeadFactory

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]
NOW = dt.datetime(2026, 11, 20, 15, 0, tzinfo=dt.UTC)


def _director(name="dora", **kwargs):
    account = AccountFactory(industry="Software", employees=800, annual_revenue=200_000_000)
    defaults = {"seniority": "director", "department": "sales", "title": "Director of Sales Operations"}
    return LeadFactory(account=account, email=f"{name}@{account.domain}", **{**defaults, **kwargs})


def _ingest_and_score(lead, kind, *, days_ago=0.0, **properties):
    occurred = NOW - dt.timedelta(days=days_ago)
    aggregates.events_record(
        events=[{"lead_id": lead.pk, "kind": kind, "occurred_at": occurred, "properties": properties}]
    )
    with time_machine.travel(NOW, tick=False):
        pending.pending_rescore_drain()
    lead.refresh_from_db()
    return lead


def _stages(lead):
    return list(StageTransition.objects.filter(lead=lead).order_by("pk").values_list("to_stage", "reason"))


def test_a_fitting_director_who_requests_a_demo_becomes_an_sql_at_once_with_the_reason(active_version):
    lead = _ingest_and_score(_director(), "demo_request", path="/demo")

    assert (lead.score_fit, lead.score_buying, lead.score_total) == (90, 50, 41)
    assert (lead.score_tier, lead.temperature, lead.score_fast_track) == ("sql", "cold", "Demo request")
    assert lead.stage == Stage.SQL
    assert lead.fast_tracked_at == NOW
    assert _stages(lead) == [
        (Stage.MQL, "On the way to SQL: fast-tracked by a hand-raiser signal"),
        (Stage.SQL, "Fast-tracked: Demo request on 2026-11-20 (fit 90, at least the floor of 40)"),
    ]


def test_a_students_demo_request_does_not_reach_sales(active_version):
    lead = _ingest_and_score(_director("stu", seniority="student", title="Student"), "demo_request")

    assert (lead.score_tier, lead.score_fast_track, lead.stage) == ("disqualified", "", Stage.DISQUALIFIED)
    assert lead.fast_tracked_at is None


def test_a_demo_request_below_the_fit_floor_only_adds_its_points(active_version):
    account = AccountFactory(industry="Retail", employees=10, annual_revenue=None)
    lead = LeadFactory(account=account, email=f"ivy@{account.domain}", seniority="individual", department="other")

    lead = _ingest_and_score(lead, "demo_request")

    # fit 0 (no fit rule matches), buying 50: total 0.1 x 50 = 5.
    assert (lead.score_fit, lead.score_total, lead.score_tier, lead.score_fast_track) == (0, 5, "below_mql", "")
    assert lead.stage == Stage.LEAD


def test_the_fit_floor_is_inclusive(active_version):
    # Fit exactly 40: $10M-$1B 25 + Director 15; employees unknown, industry not a target, department other.
    account = AccountFactory(industry="Retail", employees=None, annual_revenue=50_000_000)
    lead = LeadFactory(account=account, email=f"flo@{account.domain}", seniority="director", department="other")

    lead = _ingest_and_score(lead, "demo_request")

    assert (lead.score_fit, lead.score_tier, lead.stage) == (40, "sql", Stage.SQL)


def test_a_contact_sales_form_fast_tracks_and_a_newsletter_form_does_not(active_version):
    contact = _ingest_and_score(_director("cara"), "form_submitted", form="Contact us", path="/contact")
    newsletter = _ingest_and_score(_director("nell"), "form_submitted", form="Newsletter")

    assert (contact.score_fast_track, contact.stage) == ("Contact-sales form", Stage.SQL)
    assert (newsletter.score_fast_track, newsletter.score_tier) == ("", "below_mql")


def test_a_demo_request_older_than_its_window_no_longer_fast_tracks(active_version):
    lead = _ingest_and_score(_director("olga"), "demo_request", days_ago=31)

    assert lead.score_fast_track == ""
    assert lead.score_tier == "below_mql"
    assert lead.stage == Stage.LEAD


def test_a_fast_tracked_lead_is_not_sent_to_borderline_review(active_version):
    # Fit 100 (VP 25 + buying dept 10 + revenue 25 + employees 20 + industry 20) and a demo request:
    # 0.4 x 100 + 0.1 x 50 = 45, below MQL; nothing near the Mid-Market cut-off, fast-tracked regardless.
    lead = _ingest_and_score(_director("vera", seniority="vp"), "demo_request")

    assert (lead.score_total, lead.score_tier, lead.stage) == (45, "sql", Stage.SQL)
    assert not BorderlineReview.objects.filter(lead=lead).exists()


def test_the_lead_page_says_why_the_lead_was_fast_tracked(client, active_version, marketer):
    lead = _ingest_and_score(_director(), "demo_request")
    client.force_login(marketer)

    page = client.get(reverse("lead_detail", args=[lead.pk])).content.decode()

    assert "Fast-tracked: Demo request on 2026-11-20 (fit 90, at least the floor of 40)" in page
    assert 'data-testid="score-refreshing"' not in page


def test_the_lead_page_explains_a_demo_request_that_did_not_fast_track(client, active_version, marketer):
    account = AccountFactory(industry="Retail", employees=10, annual_revenue=None)
    lead = LeadFactory(account=account, email=f"ivy@{account.domain}", seniority="individual", department="other")
    lead = _ingest_and_score(lead, "demo_request")
    client.force_login(marketer)

    page = client.get(reverse("lead_detail", args=[lead.pk])).content.decode()

    assert "Demo request on 2026-11-20, not fast-tracked: fit 0 is below the floor of 40" in page


def test_an_sql_whose_score_fell_says_so_in_words(client, active_version, marketer):
    lead = _director("sam")
    Lead.objects.filter(pk=lead.pk).update(stage=Stage.SQL)
    lead = _ingest_and_score(lead, "email_open")
    client.force_login(marketer)

    page = client.get(reverse("lead_detail", args=[lead.pk])).content.decode()

    assert lead.score_tier == "below_mql"
    assert "Sales-qualified earlier; today&#x27;s score alone would make it Below MQL." in page
