"""Test settings: the real settings, with what a test run must not touch swapped out."""

import os

os.environ.setdefault("DEBUG", "true")

from leadops.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Eager mode only here, never in the base settings; the integration tests run a real worker instead.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("LEADOPS_CELERY_EAGER", "true") == "true"
CELERY_TASK_EAGER_PROPAGATES = True
