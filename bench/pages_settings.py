"""Settings of the page benchmark: LeadOps' own, with DEBUG off as in production.

DEBUG on would time what production does not do: every SQL statement logged with its text and time, and templates
compiled with their debug information. The rest stays as `make bench` sets it (the development key, cookies without
the Secure flag and no HTTPS redirect, since the load runs over plain HTTP on loopback; static files found by the
finders, so no collectstatic is needed).
"""

from leadops.settings import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
WHITENOISE_AUTOREFRESH = False
