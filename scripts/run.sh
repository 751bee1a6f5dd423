#!/usr/bin/env bash
# `make run`: the laptop demo. Web server, Celery worker and Celery beat under honcho (see Procfile), on SQLite in
# var/ with the filesystem broker, so no server has to be installed. Ctrl-C stops all three.
#
# PORT (default 8000) picks the web port. Everything else comes from the environment as in production (DEBUG,
# DATABASE_URL, CELERY_BROKER_URL, ...; see leadops/settings.py); the defaults are the demo.
set -euo pipefail

cd "$(dirname "$0")/.."
export PORT="${PORT:-8000}"
export DEBUG="${DEBUG:-true}"
export DJANGO_SETTINGS_MODULE=leadops.settings
# Unbuffered, so honcho shows each process's log lines as they happen.
export PYTHONUNBUFFERED=1
python=.venv/bin/python

bash scripts/venv.sh requirements.txt

# The SQLite file and beat's schedule live in var/ (settings.py only makes it for the filesystem broker's folders).
mkdir -p "${LEADOPS_VAR_DIR:-var}"

"$python" manage.py migrate --noinput
# With DEBUG on, WhiteNoise serves static files straight from the finders; only a production-like run needs them
# collected (and compressed) into STATIC_ROOT.
if [[ ! "${DEBUG,,}" =~ ^(1|true|yes|on)$ ]]; then
    "$python" manage.py collectstatic --noinput --verbosity 0
fi

# Fills an empty database once; prints the demo logins on every run.
"$python" manage.py seed_demo --if-empty --leads "${LEADOPS_DEMO_LEADS:-5000}"
# The seed writes events straight to the tables; fold them into the scoring aggregates and score everyone once.
"$python" manage.py recompute_scores --if-unscored --rebuild-aggregates
# The demo's rejections were recorded before its leads were scored: marketing's feedback view bands them by score.
"$python" manage.py rejections_backfill_scores

cat <<EOF

  LeadOps is starting on  http://127.0.0.1:${PORT}/
  (web, Celery worker and Celery beat; press Ctrl-C to stop all three)

EOF
# exec, so a signal sent to this script reaches honcho, which stops the three processes it started.
exec "$python" -m honcho start --procfile Procfile --port "$PORT"
