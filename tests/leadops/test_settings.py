"""Settings helpers refuse junk with the variable's name; production variables pass check --deploy."""

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from leadops import env

pytestmark = pytest.mark.sqlite
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("raw", ["maybe", "2", "yes please", "tru"])
def test_bool_rejects_junk(raw):
    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        env.env_bool("DEBUG", False, environ={"DEBUG": raw})


@pytest.mark.parametrize(("raw", "value"), [("true", True), ("0", False), ("Yes", True), ("off", False), ("", False)])
def test_bool_accepts_the_usual_spellings(raw, value):
    assert env.env_bool("DEBUG", True, environ={"DEBUG": raw}) is value


@pytest.mark.parametrize(("raw", "message"), [("25x", "whole number"), ("0", "at least 1"), ("70000", "at most")])
def test_int_rejects_junk_and_out_of_range(raw, message):
    with pytest.raises(ImproperlyConfigured, match=f"EMAIL_PORT.*{message}"):
        env.env_int("EMAIL_PORT", 25, minimum=1, maximum=65535, environ={"EMAIL_PORT": raw})


@pytest.mark.parametrize("raw", ["junk", "verbose", "10", "WARN"])
def test_log_level_rejects_junk_with_its_name(raw):
    with pytest.raises(ImproperlyConfigured, match="LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"):
        env.env_log_level("LOG_LEVEL", "INFO", environ={"LOG_LEVEL": raw})


@pytest.mark.parametrize(
    ("raw", "level"), [("debug", "DEBUG"), (" Warning ", "WARNING"), ("ERROR", "ERROR"), ("", "INFO")]
)
def test_log_level_accepts_the_names_in_any_case(raw, level):
    assert env.env_log_level("LOG_LEVEL", "INFO", environ={"LOG_LEVEL": raw}) == level


def test_list_rejects_empty_items():
    with pytest.raises(ImproperlyConfigured, match="ALLOWED_HOSTS"):
        env.env_list("ALLOWED_HOSTS", [], environ={"ALLOWED_HOSTS": "a.example,,b.example"})
    assert env.env_list("ALLOWED_HOSTS", [], environ={"ALLOWED_HOSTS": "a.example, b.example"}) == [
        "a.example",
        "b.example",
    ]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("mysql://u:p@h/db", "must start with sqlite:// or postgresql://"),
        ("postgresql://u:p@h/", "must name the database"),
        ("postgresql://u:p@h:notaport/db", "invalid port"),
        ("postgresql://u:p@h/db?color=blue", "unknown options: color"),
        ("sqlite://", "must name the SQLite file"),
        ("just-junk", "must start with"),
    ],
)
def test_database_url_rejects_junk(raw, message):
    with pytest.raises(ImproperlyConfigured, match=f"DATABASE_URL.*{message}"):
        env.env_database("DATABASE_URL", Path("/tmp/x.sqlite3"), environ={"DATABASE_URL": raw})


def test_database_url_understands_postgres_tcp_and_socket_and_sqlite():
    tcp = env.env_database(
        "DATABASE_URL", Path("/x"), environ={"DATABASE_URL": "postgresql://lo:p%40ss@db:6432/leadops"}
    )
    assert (tcp["ENGINE"], tcp["NAME"], tcp["USER"], tcp["PASSWORD"], tcp["HOST"], tcp["PORT"]) == (
        "django.db.backends.postgresql",
        "leadops",
        "lo",
        "p@ss",
        "db",
        "6432",
    )
    socket = env.env_database("DATABASE_URL", Path("/x"), environ={"DATABASE_URL": "postgresql://pg@/test?host=/tmp/s"})
    assert socket["HOST"] == "/tmp/s" and socket["PORT"] == ""
    sqlite = env.env_database("DATABASE_URL", Path("/x"), environ={"DATABASE_URL": "sqlite:////var/lib/leadops.db"})
    assert sqlite["NAME"] == "/var/lib/leadops.db"
    default = env.env_database("DATABASE_URL", Path("/x/default.db"), environ={})
    assert default["ENGINE"] == "django.db.backends.sqlite3" and default["NAME"] == "/x/default.db"


@pytest.mark.parametrize("raw", ["http://broker", "redis", "kafka://k:9092"])
def test_broker_url_rejects_junk(raw):
    with pytest.raises(ImproperlyConfigured, match="CELERY_BROKER_URL"):
        env.env_broker_url("CELERY_BROKER_URL", "filesystem://", environ={"CELERY_BROKER_URL": raw})


def test_secret_key_rules(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        env.env_secret_key(default=None, environ={})
    with pytest.raises(ImproperlyConfigured, match="at least 32"):
        env.env_secret_key(default=None, environ={"SECRET_KEY": "short"})
    key_file = tmp_path / "key"
    key_file.write_text("k" * 50 + "\n")
    assert env.env_secret_key(default=None, environ={"SECRET_KEY_FILE": str(key_file)}) == "k" * 50
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        env.env_secret_key(default=None, environ={"SECRET_KEY_FILE": str(tmp_path / "missing")})
    with pytest.raises(ImproperlyConfigured, match="not both"):
        env.env_secret_key(default=None, environ={"SECRET_KEY": "k" * 50, "SECRET_KEY_FILE": str(key_file)})


def _manage(*args, **variables):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "LEADOPS_", "CELERY_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **variables},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x7!k2m#p9q@w4e6r8t0y1u3i5o-a_s+d=f^g&h*j(l)z" * 2,
    "ALLOWED_HOSTS": "leadops.example.com",
    "DATABASE_URL": "postgresql://leadops:secret@db.internal:5432/leadops",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
}


def test_check_deploy_is_clean_with_production_variables(tmp_path):
    result = _manage("check", "--deploy", "--fail-level", "WARNING", LEADOPS_VAR_DIR=str(tmp_path), **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_junk_variable_stops_start_up_with_its_name(tmp_path):
    result = _manage("check", LEADOPS_VAR_DIR=str(tmp_path), **{**PRODUCTION, "EMAIL_PORT": "twenty-five"})
    assert result.returncode != 0
    assert "EMAIL_PORT must be a whole number" in result.stderr


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    variables = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = _manage("check", LEADOPS_VAR_DIR=str(tmp_path), **variables)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_a_junk_log_level_stops_start_up_with_its_name(tmp_path):
    result = _manage("check", LEADOPS_VAR_DIR=str(tmp_path), LOG_LEVEL="junk")
    assert result.returncode != 0
    assert "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got 'junk'." in result.stderr
    assert "Unable to configure root logger" not in result.stderr


# --- every variable the settings read: a junk value stops them with the variable's name ---------------------------

SETTINGS_FILE = ROOT / "leadops" / "settings.py"
A_FILE = object()  # stands for the path of an existing file, made in the test's temporary directory

JUNK = {
    "ALLOWED_HOSTS": "a.example,,b.example",
    "BEHIND_TLS_PROXY": "perhaps",
    "CELERY_BROKER_URL": "kafka://k:9092",
    "CELERY_RESULT_BACKEND": "redis",
    "CELERY_TASK_DEFAULT_QUEUE": "lead ops",
    "CELERY_TASK_SOFT_TIME_LIMIT": "5m",
    "CELERY_TASK_TIME_LIMIT": "0",
    "CSRF_COOKIE_SECURE": "2",
    "CSRF_TRUSTED_ORIGINS": "leadops.example.com",
    "DATABASE_URL": "mysql://u:p@h/db",
    "DEBUG": "maybe",
    "DEFAULT_FROM_EMAIL": "LeadOps",
    "EMAIL_BACKEND": "smtp",
    "EMAIL_HOST": "smtp://mail.example.com",
    "EMAIL_PORT": "twenty-five",
    "EMAIL_USE_SSL": "sometimes",
    "EMAIL_USE_TLS": "sometimes",
    "LEADOPS_IMPORT_MAX_BYTES": "50MB",
    "LEADOPS_VAR_DIR": A_FILE,
    "LOG_LEVEL": "junk",
    "SECRET_KEY": "short",
    "SECRET_KEY_FILE": "/nonexistent/leadops-secret-key",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "2",
    "SECURE_HSTS_PRELOAD": "2",
    "SECURE_HSTS_SECONDS": "a year",
    "SECURE_SSL_REDIRECT": "2",
    "SESSION_COOKIE_SECURE": "2",
    "TIME_ZONE": "Mars/Olympus_Mons",
}
# Any value is a valid user name, password or (test-only) database name.
FREE_FORM = {"EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD", "LEADOPS_DB_NAME_OVERRIDE"}


def _variables_the_settings_read() -> set[str]:
    source = SETTINGS_FILE.read_text()
    names = set(re.findall(r'env_\w+\(\s*"([A-Z][A-Z0-9_]*)"', source))
    if "env_secret_key(" in source:
        names |= {"SECRET_KEY", "SECRET_KEY_FILE"}
    return names


def test_every_variable_the_settings_read_has_a_junk_case():
    assert _variables_the_settings_read() == set(JUNK) | FREE_FORM


def test_the_settings_load_from_a_clean_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LEADOPS_VAR_DIR", str(tmp_path / "var"))
    loaded = runpy.run_path(str(SETTINGS_FILE))
    assert loaded["LOGGING"]["root"]["level"] == "INFO" and loaded["TIME_ZONE"] == "UTC"


@pytest.mark.parametrize(("name", "junk"), sorted(JUNK.items()), ids=sorted(JUNK))
def test_a_junk_value_stops_the_settings_with_the_variables_name(monkeypatch, tmp_path, name, junk):
    monkeypatch.setenv("LEADOPS_VAR_DIR", str(tmp_path / "var"))
    if junk is A_FILE:
        junk = tmp_path / "a-file"
        junk.write_text("not a directory")
    monkeypatch.setenv(name, str(junk))

    with pytest.raises(ImproperlyConfigured, match=rf"\b{name}\b"):
        runpy.run_path(str(SETTINGS_FILE))
