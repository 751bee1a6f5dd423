"""Strict readers for settings that come from the environment.

Every helper names the variable in its error, so a typo in a deployment fails at start-up with a message an
operator can act on instead of a half-configured server.
"""

from __future__ import annotations

import ipaddress
import os
import re
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def env_log_level(name: str, default: str, *, environ=os.environ) -> str:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().upper()
    if value not in LOG_LEVELS:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(LOG_LEVELS)}, got {raw!r}.")
    return value


def env_time_zone(name: str, default: str, *, environ=os.environ) -> str:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"{name} must be a time zone name such as UTC or Europe/Berlin, got {raw!r}."
        ) from None
    return value


def env_directory(name: str, default: str, *, environ=os.environ) -> Path:
    """A folder LeadOps may create; an existing file of that name is a mistake."""
    raw = environ.get(name)
    path = Path(default if raw is None or raw.strip() == "" else raw.strip())
    if path.exists() and not path.is_dir():
        raise ImproperlyConfigured(f"{name} must name a folder, and {str(path)!r} is a file.")
    return path


_DOTTED_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")
_HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*")
_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S*")
_NAME = re.compile(r"[A-Za-z0-9_.:-]+")


def env_dotted_path(name: str, default: str, *, environ=os.environ) -> str:
    """A Python import path such as django.core.mail.backends.smtp.EmailBackend."""
    return _matching(name, default, _DOTTED_PATH, "a dotted import path such as package.module.Class", environ)


def env_host(name: str, default: str, *, environ=os.environ) -> str:
    """A host name or IP address, without scheme or port."""
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip()
    if not _HOST_NAME.fullmatch(value):
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must be a host name or IP address, without scheme or port, got {raw!r}."
            ) from None
    return value


def env_name(name: str, default: str, *, environ=os.environ) -> str:
    """A name such as a queue's: letters, digits and _ . : - only, no spaces."""
    return _matching(name, default, _NAME, "a name of letters, digits, _ . : or -, without spaces", environ)


def env_email_address(name: str, default: str, *, environ=os.environ) -> str:
    """An e-mail address, bare or with a display name: "LeadOps <leadops@example.com>"."""
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip()
    local, _at, domain = parseaddr(value)[1].rpartition("@")
    if not local or not domain or any(c.isspace() for c in local + domain):
        raise ImproperlyConfigured(
            f"{name} must be an e-mail address such as LeadOps <leadops@example.com>, got {raw!r}."
        )
    return value


def env_url(name: str, *, environ=os.environ) -> str | None:
    """A URL with a scheme (redis://..., rpc://, db+postgresql://...), or None when unset or empty."""
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    return _matching(name, "", _URL_SCHEME, "a URL that starts with a scheme, such as redis://host:6379/1", environ)


def env_origins(name: str, *, environ=os.environ) -> list[str]:
    """A comma-separated list of origins such as https://leadops.example.com (scheme and host, no path)."""
    origins = env_list(name, [], environ=environ)
    for origin in origins:
        url = urlsplit(origin)
        if url.scheme not in ("http", "https") or not url.netloc or url.path not in ("", "/"):
            raise ImproperlyConfigured(
                f"{name} must list origins such as https://leadops.example.com (scheme and host), got {origin!r}."
            )
    return origins


def _matching(name: str, default: str, pattern: re.Pattern, meaning: str, environ) -> str:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip()
    if not pattern.fullmatch(value):
        raise ImproperlyConfigured(f"{name} must be {meaning}, got {raw!r}.")
    return value


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
