"""Every model is in the support admin, and every changelist opens."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tests.factories import LeadFactory, UserFactory

pytestmark = [pytest.mark.django_db]
OUR_APPS = ["leadops", "scoring"]


def test_every_model_of_our_apps_is_registered():
    for app_label in OUR_APPS:
        for model in apps.get_app_config(app_label).get_models():
            assert model in admin.site._registry, model


@pytest.mark.parametrize(
    "model", [m for label in OUR_APPS for m in apps.get_app_config(label).get_models()], ids=lambda m: m._meta.label
)
def test_changelist_opens_for_support(client, model):
    LeadFactory()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert client.get(url).status_code == 200
