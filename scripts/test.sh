#!/usr/bin/env bash
# `make test`: the whole suite, from a fresh clone, with nothing installed by hand.
#
#   1. system packages  as root, apt-get installs what is missing (postgresql, redis-server, chromium)
#   2. python venv      .venv from requirements-dev.txt (skipped when the requirements did not change)
#   3. postgresql       a throwaway cluster on a unix socket in a temp dir (fsync off, no TCP)
#   4. redis            a throwaway redis-server on a free port, no persistence
#   5. pytest           the whole suite on PostgreSQL, 2 xdist workers
#   6. pytest           the `-m sqlite` subset on SQLite, the demo's database
# The cluster, redis and any Celery worker the tests started are stopped on every exit, Ctrl-C included.
#
# Extra arguments go to both pytest runs: scripts/test.sh -k lifecycle -x  (make test ARGS="-k lifecycle -x").
# With CI=true nothing may be skipped for a missing component: it is installed, or the run fails.
# PYTEST_WORKERS (default 2) sets the xdist workers; LEADOPS_CHROMIUM points at a Chromium other than Debian's.
set -euo pipefail
# shellcheck disable=SC2317  # cleanup() and on_exit() run from traps, which shellcheck cannot see

cd "$(dirname "$0")/.."
python=.venv/bin/python
workers="${PYTEST_WORKERS:-2}"
chromium="${LEADOPS_CHROMIUM:-/usr/bin/chromium}"
ci=false
[[ "${CI:-}" =~ ^(1|true|TRUE|True|yes)$ ]] && ci=true
is_root=false
[[ "$(id -u)" == 0 ]] && is_root=true

# A developer's shell may point these at a real database or broker; the tests must never see them.
unset DATABASE_URL LEADOPS_DB_NAME_OVERRIDE CELERY_BROKER_URL CELERY_RESULT_BACKEND LEADOPS_CELERY_EAGER

# --- phase timing -------------------------------------------------------------------------------------------
clock() { if [[ -n "${EPOCHREALTIME:-}" ]]; then echo "${EPOCHREALTIME/,/.}"; else date +%s; fi; }
elapsed() { awk -v a="$1" -v b="$(clock)" 'BEGIN { printf "%.1f", b - a }'; }

run_started=$(clock)
summary=()
current_phase=""
current_started=""

phase_begin() {
    current_phase="$1"
    current_started=$(clock)
    echo
    echo "==> $1"
}

phase_end() {
    summary+=("$(printf '  %-34s %7s s  %s' "$current_phase" "$(elapsed "$current_started")" "${1:-ok}")")
    current_phase=""
}

# --- cleanup, on every exit ---------------------------------------------------------------------------------
rundir=$(mktemp -d /tmp/leadops-test.XXXXXX)
pgdir=""
pg_bindir=""

as_postgres() {
    # PostgreSQL refuses to run as root; `cd /` because the postgres user may not be allowed into our cwd.
    if $is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

cleanup() {
    local pidfile pid
    # Celery workers the integration tests started, in case pytest died before it could stop them.
    for pidfile in "$rundir"/*.celery.pid; do
        [[ -f "$pidfile" ]] || continue
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null && echo "    stopped leftover Celery worker $pid"
    done
    # Nothing in this redis is worth a graceful shutdown, which takes over a second.
    if [[ -f "$rundir/redis.pid" ]]; then
        kill -KILL "$(cat "$rundir/redis.pid")" 2>/dev/null || true
    fi
    if [[ -n "$pgdir" && -f "$pgdir/data/postmaster.pid" ]]; then
        as_postgres "$pg_bindir/pg_ctl" -D "$pgdir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    [[ -n "$pgdir" ]] && rm -rf "$pgdir"
    rm -rf "$rundir"
}

on_exit() {
    local rc=$?
    set +e
    # A second Ctrl-C must not leave the cluster or redis behind.
    trap '' INT TERM
    if [[ -n "$current_phase" ]]; then
        phase_end "$([[ $rc == 130 || $rc == 143 ]] && echo interrupted || echo "FAILED (exit $rc)")"
    fi
    phase_begin "cleanup"
    cleanup
    phase_end
    echo
    echo "==> Summary"
    printf '%s\n' "${summary[@]}"
    printf '  %-34s %7s s\n' "total" "$(elapsed "$run_started")"
    [[ -n "${tests_line:-}" ]] && echo "$tests_line"
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 1. system packages -------------------------------------------------------------------------------------
find_pg_bindir() {
    local dir
    # Debian keeps the server binaries off PATH, one directory per major version; take the newest.
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]] && { echo "$dir"; return 0; }
    done
    # Homebrew and other distributions put them on PATH.
    if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        dirname "$(command -v initdb)"
        return 0
    fi
    return 1
}

find_missing() {
    missing=()
    find_pg_bindir >/dev/null || missing+=(postgresql)
    command -v redis-server >/dev/null || missing+=(redis-server)
    [[ -x "$chromium" ]] || missing+=(chromium)
}

phase_begin "system packages"
find_missing
if ((${#missing[@]})); then
    if $is_root && command -v apt-get >/dev/null; then
        echo "    installing ${missing[*]} with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        if ! { apt-get update -q && apt-get install -y -q -o Dpkg::Use-Pty=0 "${missing[@]}"; } </dev/null >"$rundir/apt.log" 2>&1; then
            tail -n 40 "$rundir/apt.log"
            echo "error: apt-get could not install ${missing[*]} (log above)." >&2
            exit 1
        fi
        find_missing
        if ((${#missing[@]})) && $ci; then
            echo "error: still missing after apt-get: ${missing[*]} (chromium is looked for at $chromium)." >&2
            exit 1
        fi
    elif $ci; then
        echo "error: CI needs ${missing[*]} and cannot install it (not root, or no apt-get)." >&2
        exit 1
    else
        echo "    missing: ${missing[*]}. On Debian/Ubuntu: sudo apt-get install ${missing[*]}"
        echo "    (macOS: brew install postgresql@16 redis, and point LEADOPS_CHROMIUM at a Chromium binary)"
    fi
else
    echo "    postgresql, redis-server and chromium are installed"
fi
pg_bindir=$(find_pg_bindir) || {
    echo "error: the suite runs on PostgreSQL, and no initdb/pg_ctl was found (package: postgresql)." >&2
    exit 1
}
phase_end

# --- 2. python venv -----------------------------------------------------------------------------------------
phase_begin "python venv (requirements-dev.txt)"
bash scripts/venv.sh requirements-dev.txt
phase_end

# --- 3. postgresql ------------------------------------------------------------------------------------------
phase_begin "postgresql cluster"
pgdir=$(mktemp -d /tmp/leadops-pg.XXXXXX)
$is_root && chown postgres: "$pgdir"
if ! as_postgres "$pg_bindir/initdb" -D "$pgdir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync \
    >"$rundir/initdb.log" 2>&1; then
    cat "$rundir/initdb.log"
    exit 1
fi
# Unix socket only (-h ''), so it never collides with a PostgreSQL already on the machine; durability is
# pointless for a cluster that lives for one run.
if ! as_postgres "$pg_bindir/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 60 \
    -o "-k $pgdir -h '' -F -c fsync=off -c full_page_writes=off -c synchronous_commit=off" start >/dev/null; then
    cat "$pgdir/server.log"
    exit 1
fi
echo "    $("$pg_bindir/postgres" --version) on socket $pgdir"
export LEADOPS_TEST_DATABASE_URL="postgresql://postgres@/postgres?host=$pgdir"
phase_end

# --- 4. redis -----------------------------------------------------------------------------------------------
phase_begin "redis"
if command -v redis-server >/dev/null; then
    port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
        --pidfile "$rundir/redis.pid" --logfile "$rundir/redis.log" --dir "$rundir"
    reply=""
    for _ in $(seq 100); do
        # Bash's /dev/tcp speaks enough RESP for a PING; redis-cli may not be installed.
        reply=$( (exec 3<>"/dev/tcp/127.0.0.1/$port" && printf 'PING\r\n' >&3 && read -r -t 1 line <&3 && echo "$line") \
            2>/dev/null || true)
        [[ "$reply" == +PONG* ]] && break
        sleep 0.1
    done
    if [[ "${reply:-}" != +PONG* ]]; then
        cat "$rundir/redis.log"
        echo "error: redis-server did not answer on port $port." >&2
        exit 1
    fi
    export LEADOPS_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
    echo "    $(redis-server --version | cut -d' ' -f1-3) on $LEADOPS_TEST_REDIS_URL"
    phase_end
else
    phase_end "skipped: redis-server not installed"
fi

# --- 5./6. pytest -------------------------------------------------------------------------------------------
# The tests get their own var/ (broker folders), so a run never touches the demo's database or queue.
export LEADOPS_VAR_DIR="$rundir/var"
# Integration tests write the pids of their Celery workers here, for cleanup() above.
export LEADOPS_TEST_RUN_DIR="$rundir"
mkdir -p test-artifacts

final_rc=0
extra_args="$*"
pytest_phases=0
empty_phases=0
totals=(0 0 0)  # passed failed skipped, over both runs

# passed/failed/skipped from a JUnit XML report (failed includes errors).
junit_counts() {
    "$python" - "$1" <<'PY'
import sys
import xml.etree.ElementTree as ET

try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print(0, 0, 0)
    raise SystemExit
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
total = sum(int(s.get("tests", 0)) for s in suites)
failed = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skipped = sum(int(s.get("skipped", 0)) for s in suites)
print(total - failed - skipped, failed, skipped)
PY
}

# run_pytest NAME DATABASE_URL [pytest args...]; an empty DATABASE_URL means the SQLite default.
run_pytest() {
    local name="$1" database_url="$2" rc=0 junit="$rundir/junit-$((pytest_phases + 1)).xml" counts
    shift 2
    pytest_phases=$((pytest_phases + 1))
    phase_begin "$name"
    echo "    pytest $*"
    if [[ -n "$database_url" ]]; then
        DATABASE_URL="$database_url" "$python" -m pytest --junitxml="$junit" "$@" || rc=$?
    else
        "$python" -m pytest --junitxml="$junit" "$@" || rc=$?
    fi
    read -r -a counts <<<"$(junit_counts "$junit")"
    totals=($((totals[0] + counts[0])) $((totals[1] + counts[1])) $((totals[2] + counts[2])))
    local tally="${counts[0]} passed, ${counts[1]} failed, ${counts[2]} skipped"
    if [[ $rc == 0 ]]; then
        phase_end "ok: $tally"
    elif [[ $rc == 5 && -n "$extra_args" ]]; then
        # Extra arguments (-k, -m, a path) may select nothing in one of the two runs; not a failure unless
        # both runs select nothing (checked below).
        empty_phases=$((empty_phases + 1))
        phase_end "no tests selected"
    else
        phase_end "FAILED (pytest exit $rc): $tally"
        final_rc=$rc
    fi
}

# Every run gets its own pytest temp dir, so nothing accumulates under /tmp/pytest-of-$USER.
run_pytest "pytest on PostgreSQL (-n $workers)" "$LEADOPS_TEST_DATABASE_URL" \
    -n "$workers" -ra --durations=5 --basetemp="$rundir/pytest-postgresql" "$@"
run_pytest "pytest -m sqlite on SQLite (-n $workers)" "" \
    -n "$workers" -ra --basetemp="$rundir/pytest-sqlite" "$@" -m sqlite

if ((empty_phases == pytest_phases)); then
    echo "error: the pytest arguments ($extra_args) selected no test at all." >&2
    final_rc=5
fi
# One plain closing line over both runs.
tests_line="tests: ${totals[0]} passed, ${totals[1]} failed, ${totals[2]} skipped"
exit "$final_rc"
