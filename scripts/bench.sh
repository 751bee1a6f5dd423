#!/usr/bin/env bash
# `make bench`: the scoring, routing, SLA and page benchmarks on a throwaway PostgreSQL cluster and Redis, with a real
# Celery worker (the page benchmark also starts gunicorn and locust on loopback).
#
#   scripts/bench.sh                 # full scale: 1,000,000 leads, 10,000,000 events
#   scripts/bench.sh --leads 100000  # quicker run at a tenth of the scale (events scale with leads)
#   BENCH=pages scripts/bench.sh --leads 100000   # the page benchmark alone, on a world it builds itself
#
# Figures are printed as a table and written to bench/results.json. Everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

is_root=false
[[ $(id -u) -eq 0 ]] && is_root=true
as_postgres() { if $is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }

pg_bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r | head -n 1)
missing=()
[[ -x "$pg_bindir/initdb" ]] || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
if ((${#missing[@]})); then
    if $is_root && command -v apt-get >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
        pg_bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V -r | head -n 1)
    else
        echo "error: the benchmark needs ${missing[*]}." >&2
        exit 1
    fi
fi
bash scripts/venv.sh requirements-dev.txt

workdir=$(mktemp -d /tmp/leadops-bench.XXXXXX)
$is_root && chown postgres: "$workdir"
chmod o+rx "$workdir"
cleanup() {
    [[ -f "$workdir/worker.pid" ]] && kill "$(cat "$workdir/worker.pid")" 2>/dev/null || true
    [[ -f "$workdir/locust.pid" ]] && kill "$(cat "$workdir/locust.pid")" 2>/dev/null || true
    [[ -f "$workdir/gunicorn.pid" ]] && kill "$(cat "$workdir/gunicorn.pid")" 2>/dev/null || true
    [[ -f "$workdir/redis.pid" ]] && kill "$(cat "$workdir/redis.pid")" 2>/dev/null || true
    as_postgres "$pg_bindir/pg_ctl" -D "$workdir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$workdir"
}
trap cleanup EXIT INT TERM

as_postgres "$pg_bindir/initdb" -D "$workdir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >/dev/null
# Sized for the 24 GiB machine; the same cluster serves the floor and LeadOps, so the ratio is fair.
as_postgres "$pg_bindir/pg_ctl" -D "$workdir/data" -l "$workdir/pg.log" -w -t 60 -o "-k $workdir -h '' -F \
 -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c shared_buffers=4GB -c work_mem=256MB \
 -c maintenance_work_mem=2GB -c max_wal_size=16GB -c checkpoint_timeout=30min -c max_parallel_workers_per_gather=2" \
    start >/dev/null
port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "$workdir/redis.pid" --logfile "$workdir/redis.log" --dir "$workdir"

export DEBUG=true LEADOPS_VAR_DIR="$workdir/var"
export DATABASE_URL="postgresql://postgres@/postgres?host=$workdir"
export CELERY_BROKER_URL="redis://127.0.0.1:$port/0" CELERY_TASK_DEFAULT_QUEUE=bench
export LEADOPS_BENCH_DIR="$workdir"
.venv/bin/python manage.py migrate -v0
# BENCH=scoring, BENCH=routing, BENCH=sla or BENCH=pages runs one of them; the arguments go to the scoring benchmark
# (ROUTING_ARGS="--leads 2000" to the routing one, SLA_ARGS="--clocks 10000" to the SLA one, PAGES_ARGS="--no-load"
# to the page one, which also takes the arguments when it runs alone).
bench="${BENCH:-all}"
if [[ "$bench" == all || "$bench" == scoring ]]; then
    .venv/bin/python bench/scoring_bench.py "$@"
fi
if [[ "$bench" == all || "$bench" == routing ]]; then
    # shellcheck disable=SC2086  # ROUTING_ARGS is a list of arguments
    .venv/bin/python bench/routing_bench.py ${ROUTING_ARGS:-}
fi
if [[ "$bench" == all || "$bench" == sla ]]; then
    # shellcheck disable=SC2086  # SLA_ARGS is a list of arguments
    .venv/bin/python bench/sla_bench.py ${SLA_ARGS:-}
fi
if [[ "$bench" == all || "$bench" == pages ]]; then
    # After the scoring benchmark it works on the leads that one built; alone it builds its own.
    pages_args=()
    [[ "$bench" == pages ]] && pages_args=("$@")
    # shellcheck disable=SC2086  # PAGES_ARGS is a list of arguments
    .venv/bin/python bench/pages_bench.py "${pages_args[@]}" ${PAGES_ARGS:-}
fi
