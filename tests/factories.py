"""Factories with minimal valid defaults."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from leadops.models import Account, Activity, IntentSignal, Lead, LeadEvent, Opportunity, RepProfile, Team
from leadops.rules import Stage

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@leadops.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    region = "EMEA"


class RepProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RepProfile

    user = factory.SubFactory(UserFactory)
    time_zone = "Europe/Berlin"


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Company {n}")
    domain = factory.Sequence(lambda n: f"company{n}.example")
    industry = "Software"
    employees = 250
    country = "Germany"


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"lead{n}@company.example")
    title = "Head of Operations"
    account = factory.SubFactory(AccountFactory)
    source = "web"
    stage = Stage.NEW
    created_at = factory.LazyFunction(timezone.now)
    stage_changed_at = factory.LazyAttribute(lambda lead: lead.created_at)


class LeadEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LeadEvent

    lead = factory.SubFactory(LeadFactory)
    kind = "page_view"
    occurred_at = factory.LazyFunction(timezone.now)


class IntentSignalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IntentSignal

    account = factory.SubFactory(AccountFactory)
    topic = "sales automation"
    surge_score = 75
    source = "Bombora"
    observed_at = factory.LazyFunction(timezone.now)


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    lead = factory.SubFactory(LeadFactory)
    rep = factory.SubFactory(UserFactory)
    kind = "call"
    occurred_at = factory.LazyFunction(timezone.now)


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Deal {n}")
    amount = 10000
    created_at = factory.LazyFunction(timezone.now)
