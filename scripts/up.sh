#!/usr/bin/env bash
# `make up`: the whole system on this machine, on the embedded defaults.
#
#   1. a local Prefect server (UI and API on http://127.0.0.1:4200), its state under var/prefect;
#   2. the ledger (SQLite under var/, or HOUQIN_DATABASE_URL) created or upgraded;
#   3. the web UI (`houqin serve`, http://127.0.0.1:8000) if this checkout has it;
#   4. every deployment of prefect.yaml served from one process (`python -m flows.serve`) until
#      Ctrl-C (or SIGTERM), when the trap below stops it, the web UI and the server.
set -euo pipefail

cd "$(dirname "$0")/.."
BIN="${VENV:-.venv}/bin"
HOST=127.0.0.1
PORT="${PREFECT_PORT:-4200}"

mkdir -p var/prefect var/log
export PREFECT_HOME="$PWD/var/prefect"
export PREFECT_API_URL="http://$HOST:$PORT/api"
# An offline server logs telemetry errors without these (shared/notes/prefect.md).
export DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
export PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW=ignore
# How often the served process asks for due runs: 2 s starts a run within ~3 s of its time.
export PREFECT_RUNNER_POLL_FREQUENCY="${PREFECT_RUNNER_POLL_FREQUENCY:-2}"

children=()
stop() {
    # The served flows first (on the way out they pause their deployments, which needs the
    # server), then the web UI, the server last; each gets 20 s to stop before SIGKILL.
    local i pid
    for ((i = ${#children[@]} - 1; i >= 0; i--)); do
        pid=${children[i]}
        kill "$pid" 2>/dev/null || continue
        for _ in $(seq 1 40); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}
trap stop EXIT
trap 'exit 130' INT TERM

healthy() {
    "$BIN/python" - "$PREFECT_API_URL/health" <<'PY' 2>/dev/null
import sys
import urllib.request

with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
    sys.exit(0 if response.status == 200 else 1)
PY
}

if healthy; then
    echo "A Prefect server already answers on $PREFECT_API_URL; using it."
else
    echo "Starting the Prefect server (log: var/log/prefect-server.log) ..."
    # setsid: Ctrl-C reaches the served flows only; the server must outlive their shutdown.
    setsid "$BIN/prefect" server start --host "$HOST" --port "$PORT" \
        >var/log/prefect-server.log 2>&1 &
    server=$!
    children+=("$server")
    for _ in $(seq 1 120); do # up to 60 s; a fresh start takes ~8 s
        healthy && break
        if ! kill -0 "$server" 2>/dev/null; then
            echo "The Prefect server stopped while starting:" >&2
            tail -n 20 var/log/prefect-server.log >&2
            exit 1
        fi
        sleep 0.5
    done
    healthy || { echo "The Prefect server did not answer within 60 s." >&2; exit 1; }
fi

"$BIN/houqin" init

if "$BIN/houqin" serve --help >/dev/null 2>&1; then
    echo "Starting the web UI on http://127.0.0.1:8000 (log: var/log/web.log) ..."
    setsid "$BIN/houqin" serve >var/log/web.log 2>&1 &
    children+=("$!")
fi

cat <<EOF

Houqin is up.
  Prefect UI:  http://$HOST:$PORT
    Deployments: one per plan (launch-plan/<plan>), sweep, overdue-digest.
    Each plan's next launch: Deployments -> the plan -> its schedules and "Upcoming" runs
    (or: PREFECT_API_URL=$PREFECT_API_URL $BIN/prefect deployment ls).
    Every launch date from the calendars: $BIN/houqin deployments
  Ctrl-C stops everything.

EOF

# In the background and waited for, so that a signal reaches the trap at once (bash runs traps
# only after a foreground command ends).
"$BIN/python" -m flows.serve &
children+=("$!")
wait "$!"
