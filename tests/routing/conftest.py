"""A small routing world: the cast's team works an EMEA territory with two specialists and a generalist."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from leadops import roles
from leadops.rules import Stage
from routing.models import Territory, TerritoryMember
from tests.factories import AccountFactory, LeadEventFactory, LeadFactory, RepProfileFactory, UserFactory


def make_rep(username, team, manager, role=roles.SDR, first_name=""):
    user = UserFactory(username=username, role=role, first_name=first_name or username.title(), last_name="")
    RepProfileFactory(user=user, team=team, manager=manager)
    return user


def sql_lead(*, fit=80, score=80, country="Germany", named_owner=None, signal_days_ago=1, owner=None, **kwargs):
    account = AccountFactory(country=country, region="EMEA", named_account_owner=named_owner)
    lead = LeadFactory(
        account=account, stage=Stage.SQL, score_total=score, score_fit=fit, owner=owner, sql_at=timezone.now(), **kwargs
    )
    if signal_days_ago is not None:
        LeadEventFactory(
            lead=lead, kind="demo_request", occurred_at=timezone.now() - dt.timedelta(days=signal_days_ago)
        )
    return lead


@pytest.fixture
def emea(team, manager, sdr, ae):
    """EMEA (priority 1, Germany and France): specialists sdr and ae, generalist gina."""
    territory = Territory.objects.create(name="EMEA", priority=1, countries=["DE", "FR"], team=team)
    gina = make_rep("gina", team, manager)
    TerritoryMember.objects.create(territory=territory, user=sdr, role="specialist")
    TerritoryMember.objects.create(territory=territory, user=ae, role="specialist")
    TerritoryMember.objects.create(territory=territory, user=gina, role="generalist")
    territory.gina = gina
    return territory
