"""The demo world's discovery calls: logged through the call service by the AE of each SAL and open opportunity, an
opportunity's last call qualified it, every AE with calls has some that meet the coaching targets and some that are
flagged, and the same seed gives the same calls."""

from __future__ import annotations

import io
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from leadops.demo.seed import demo_reset
from leadops.models import AuditEntry, Lead
from leadops.rules import Stage
from playbooks.demo import demo_playbooks_seeded
from playbooks.models import DiscoveryCall, ObjectionRaised
from playbooks.selectors_coaching import coaching_report

pytestmark = [pytest.mark.sqlite, pytest.mark.django_db]

ANCHOR = date(2026, 3, 1)


@pytest.fixture
def world(db):
    call_command("seed_demo", anchor=ANCHOR.isoformat(), leads=1500, seed=11, quiet=True, stdout=io.StringIO())


def fingerprint():
    return sorted(
        DiscoveryCall.objects.values_list(
            "lead_id", "ae_id", "template__key", "occurred_at", "duration_minutes", "questions_asked",
            "decision_maker_present", "next_step", "outcome",
        )
    )  # fmt: skip


def test_calls_are_logged_by_the_ae_of_each_sal_and_open_opportunity(world):
    calls = list(DiscoveryCall.objects.select_related("lead"))
    assert len(calls) > 20
    for call in calls:
        assert call.lead.stage in (Stage.ACCEPTED, Stage.OPPORTUNITY)
        assert call.ae_id == call.lead.owner_id
        assert call.lead.sal_at < call.occurred_at
        assert call.occurred_at.date() < ANCHOR
        assert call.answers.count() == call.template.criteria.count()
    # Through the service: each call has its audit entry.
    assert AuditEntry.objects.filter(action="playbook.call_log").count() == len(calls)
    # No call on a closed deal: the service refuses them.
    assert not DiscoveryCall.objects.filter(lead__stage__in=(Stage.WON, Stage.LOST)).exists()


def test_an_opportunitys_last_call_qualified_it_before_it_opened(world):
    opportunities = Lead.objects.filter(stage=Stage.OPPORTUNITY, discovery_calls__isnull=False).distinct()
    assert opportunities.exists()
    for lead in opportunities:
        last = lead.discovery_calls.order_by("-occurred_at").first()
        assert last.outcome == "qualified"
        assert last.next_step != "none"
        assert last.occurred_at < lead.opportunity_at


def test_every_ae_with_calls_has_calls_on_target_and_flagged_calls(world):
    User = get_user_model()
    admin = User.objects.get(username="admin")
    report = coaching_report(user=admin)
    flagged_by_ae = {}
    for item in report.flagged:
        flagged_by_ae[item["ae"].username] = flagged_by_ae.get(item["ae"].username, 0) + 1
    aes = [row for team in report.teams for row in team["aes"]]
    assert len(aes) >= 6
    for row in aes:
        name, summary = row["ae"].username, row["summary"]
        if summary.calls >= 4:
            assert 0 < flagged_by_ae.get(name, 0) < summary.calls, name
    # Every kind of miss shows up somewhere in the demo.
    misses = " ".join(miss for item in report.flagged for miss in item["misses"])
    assert "min long" in misses
    assert "questions asked" in misses
    assert "no next step documented" in misses
    assert report.total.decision_maker.hit < report.total.calls
    assert ObjectionRaised.objects.filter(objection__key="pricing", resolved=False).exists()
    # Each manager sees their team's figures.
    for username in ("manager", "manager.emea", "manager.apac"):
        teams = coaching_report(user=User.objects.get(username=username)).teams
        assert len(teams) == 1 and teams[0]["summary"].calls > 0, username


def test_the_same_seed_gives_the_same_calls(world):
    first = fingerprint()
    DiscoveryCall.objects.all().delete()
    counts = demo_playbooks_seeded(anchor=ANCHOR, seed=11)
    assert fingerprint() == first
    assert counts["calls"] == len(first) == counts["qualified"] + counts["not_qualified"]


def test_resetting_the_demo_removes_its_calls(world):
    assert DiscoveryCall.objects.exists()
    demo_reset()
    assert not DiscoveryCall.objects.exists()
    assert not get_user_model().objects.filter(username="ae").exists()


def test_calls_fall_in_the_aes_working_hours_on_weekdays(world):
    calls = list(DiscoveryCall.objects.select_related("ae__profile"))
    local = [call.occurred_at.astimezone(ZoneInfo(call.ae.profile.time_zone)) for call in calls]
    in_office = [at for at in local if at.weekday() < 5 and 9 <= at.hour < 17]
    # A call squeezed between an SAL and its opportunity on the same evening keeps the time it was drawn at.
    assert len(in_office) >= 0.9 * len(calls)


def test_the_coaching_page_names_unresolved_objections_as_the_library_does(world, client):
    client.force_login(get_user_model().objects.get(username="admin"))
    page = client.get("/playbooks/coaching/", {"days": 3650}).content.decode()
    assert "Pricing (" in page
    assert "pricing (" not in page
