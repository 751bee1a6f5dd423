import pytest

from scoring.models import ScoringModel, ScoringModelVersion, VersionStatus


@pytest.fixture
def default_model(db):
    return ScoringModel.objects.get(name="Default")


@pytest.fixture
def active_version(default_model):
    return ScoringModelVersion.objects.select_related("model").get(model=default_model, status=VersionStatus.ACTIVE)
