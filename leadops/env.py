"""Strict readers for settings that come from the environment.

Every helper names the variable in its error, so a typo in a deployment fails at start-up with a message an
operator can act on instead of a half-configured server.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None, *, environ=os.environ) -> str:
    value = environ.get(name)
    if value is None:
        if default is None:
            raise ImproperlyConfigured(f"{name} must be set.")
        return default
    return value


def env_bool(name: str, default: bool, *, environ=os.environ) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of true/false/1/0/yes/no/on/off, got {raw!r}.")


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None, environ=os.environ
) -> int:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}.")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, got {value}.")
    return value


def env_list(name: str, default: list[str], *, environ=os.environ) -> list[str]:
    raw = environ.get(name)
    if raw is None:
        return list(default)
    items = [item.strip() for item in raw.split(",")]
    if any(not item for item in items):
        raise ImproperlyConfigured(f"{name} must be a comma-separated list without empty items, got {raw!r}.")
    return items


def env_secret_key(*, default: str | None, environ=os.environ) -> str:
    """SECRET_KEY, or the contents of the file SECRET_KEY_FILE names (for container secrets)."""
    key = environ.get("SECRET_KEY")
    key_file = environ.get("SECRET_KEY_FILE")
    if key and key_file:
        raise ImproperlyConfigured("Set SECRET_KEY or SECRET_KEY_FILE, not both.")
    if key_file:
        try:
            key = Path(key_file).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"SECRET_KEY_FILE {key_file!r} cannot be read: {exc.strerror}.") from None
        if not key:
            raise ImproperlyConfigured(f"SECRET_KEY_FILE {key_file!r} is empty.")
    if key is None:
        if default is None:
            raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG is off.")
        return default
    if len(key) < 32:
        raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long.")
    return key


def env_database(name: str, default_sqlite_path: Path, *, environ=os.environ) -> dict:
    """A Django DATABASES entry from a URL: sqlite:///path, sqlite:///:memory:, postgres(ql)://user:pw@host:port/db.

    PostgreSQL on a unix socket: postgresql://user@/dbname?host=/path/to/socket/dir
    """
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(default_sqlite_path), **_sqlite_options()}
    url = urlsplit(raw.strip())
    if url.scheme == "sqlite":
        # sqlite:////abs/path.db is absolute, sqlite:///rel.db relative, sqlite:///:memory: in memory.
        path = unquote(url.path)[1:]
        if not path:
            raise ImproperlyConfigured(f"{name} must name the SQLite file, e.g. sqlite:////abs/path/db.sqlite3.")
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path, **_sqlite_options()}
    if url.scheme in ("postgres", "postgresql", "pgsql"):
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        db_name = unquote(url.path.lstrip("/"))
        if not db_name:
            raise ImproperlyConfigured(f"{name} must name the database, e.g. postgresql://user:pw@host:5432/leadops.")
        try:
            port = url.port
        except ValueError:
            raise ImproperlyConfigured(f"{name} has an invalid port in {raw!r}.") from None
        host = query.pop("host", None) or (url.hostname or "")
        options = {
            key: value for key, value in query.items() if key in {"sslmode", "connect_timeout", "application_name"}
        }
        unknown = set(query) - set(options) - {"conn_max_age"}
        if unknown:
            raise ImproperlyConfigured(f"{name} has unknown options: {', '.join(sorted(unknown))}.")
        try:
            conn_max_age = int(query.get("conn_max_age", "60"))
        except ValueError:
            raise ImproperlyConfigured(f"{name} option conn_max_age must be a whole number of seconds.") from None
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": db_name,
            "USER": unquote(url.username or ""),
            "PASSWORD": unquote(url.password or ""),
            "HOST": host,
            "PORT": str(port or ""),
            "CONN_MAX_AGE": conn_max_age,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(
        f"{name} must start with sqlite:// or postgresql://, got scheme {url.scheme or '(none)'!r}."
    )


def _sqlite_options() -> dict:
    # WAL and a busy timeout let the web process, the worker and beat share the demo database without
    # "database is locked" errors.
    return {
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    }


BROKER_SCHEMES = {
    "filesystem",
    "redis",
    "rediss",
    "amqp",
    "amqps",
    "pyamqp",
    "sqla+sqlite",
    "sqla+postgresql",
    "memory",
}


def env_broker_url(name: str, default: str, *, environ=os.environ) -> str:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    scheme = raw.split("://", 1)[0] if "://" in raw else ""
    if scheme not in BROKER_SCHEMES:
        raise ImproperlyConfigured(
            f"{name} must be a Celery broker URL ({', '.join(sorted(BROKER_SCHEMES))}), got {raw!r}."
        )
    return raw
