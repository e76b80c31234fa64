#!/usr/bin/env bash
# `make up`: the whole system on this machine, on the embedded defaults.
#
#   1. the ledger (SQLite under var/, or HOUQIN_DATABASE_URL) created or upgraded;
#   2. the web UI (`houqin serve` on HOUQIN_WEB_HOST:HOUQIN_WEB_PORT, 127.0.0.1:8000);
#   3. a Prefect server (UI and API at HOUQIN_PREFECT_API_URL, http://127.0.0.1:4200 by default),
#      its state under <data dir>/prefect; or one that already answers there;
#   4. every deployment of prefect.yaml served from one process (`python -m flows.serve`).
# "Houqin is up" is printed only once each part answers: the Prefect API, the web UI's /healthz,
# every deployment ready. Ctrl-C (or SIGTERM) stops them all through the trap below.
set -euo pipefail

cd "$(dirname "$0")/.."
BIN="${VENV:-.venv}/bin"

# Ports and addresses come from Houqin's settings (HOUQIN_* variables or .env), as for every
# houqin command; PREFECT_PORT (older docs) still overrides the Prefect port.
read -r PREFECT_HOST PREFECT_PORT_SET WEB_HOST WEB_PORT DATA_DIR < <("$BIN/python" - <<'PY'
from urllib.parse import urlsplit

from houqin.settings import get_settings

s = get_settings()
api = urlsplit(s.prefect_api_url)
print(api.hostname, api.port or 4200, s.web_host, s.web_port, s.data_dir.resolve())
PY
)
PORT="${PREFECT_PORT:-$PREFECT_PORT_SET}"
export PREFECT_HOME="${PREFECT_HOME:-$DATA_DIR/prefect}"
export PREFECT_API_URL="http://$PREFECT_HOST:$PORT/api"
export HOUQIN_PREFECT_API_URL="$PREFECT_API_URL"
# An offline server logs telemetry errors without these (shared/notes/prefect.md).
export DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false
export PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW=ignore
# How often the served process asks for due runs: 2 s starts a run within ~3 s of its time.
export PREFECT_RUNNER_POLL_FREQUENCY="${PREFECT_RUNNER_POLL_FREQUENCY:-2}"
LOG="$DATA_DIR/log"
mkdir -p "$PREFECT_HOME" "$LOG"

children=()
stop() {
    # In reverse order of starting: the served flows first (on the way out they pause their
    # deployments, which needs the server), then the server, the web UI last; each gets 20 s
    # to stop before SIGKILL.
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

# probe URL [deployments]: exit 0 when URL answers 200; with "deployments", when every
# deployment of prefect.yaml is registered at the API and READY (its serving process polls it).
probe() {
    "$BIN/python" - "$@" <<'PY' 2>/dev/null
import json
import sys
import urllib.request

url = sys.argv[1]
if len(sys.argv) == 2:
    with urllib.request.urlopen(url, timeout=2) as response:
        sys.exit(0 if response.status == 200 else 1)
import yaml

wanted = {d["name"] for d in yaml.safe_load(open("prefect.yaml", encoding="utf-8"))["deployments"]}
request = urllib.request.Request(
    f"{url}/deployments/filter", data=b"{}", headers={"Content-Type": "application/json"}
)
with urllib.request.urlopen(request, timeout=5) as response:
    found = {d["name"]: d.get("status") for d in json.load(response)}
sys.exit(0 if all(found.get(name) == "READY" for name in wanted) else 1)
PY
}

# wait_for WHAT PID LOGFILE SECONDS PROBE-ARGS...: until the probe passes, or say why not.
wait_for() {
    local what=$1 pid=$2 log=$3 seconds=$4
    shift 4
    for _ in $(seq 1 $((seconds * 2))); do
        probe "$@" && return 0
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            echo "$what stopped while starting (log: $log):" >&2
            tail -n 20 "$log" >&2
            exit 1
        fi
        sleep 0.5
    done
    echo "$what did not answer within $seconds s (log: $log):" >&2
    tail -n 20 "$log" >&2
    exit 1
}

"$BIN/houqin" init

echo "Starting the web UI on http://$WEB_HOST:$WEB_PORT (log: $LOG/web.log) ..."
setsid "$BIN/houqin" serve --host "$WEB_HOST" --port "$WEB_PORT" >"$LOG/web.log" 2>&1 &
children+=("$!")
wait_for "The web UI" "$!" "$LOG/web.log" 60 "http://$WEB_HOST:$WEB_PORT/healthz"

if probe "$PREFECT_API_URL/health"; then
    echo "A Prefect server already answers on $PREFECT_API_URL; using it."
else
    echo "Starting the Prefect server on port $PORT (log: $LOG/prefect-server.log) ..."
    # setsid: Ctrl-C reaches the served flows only; the server must outlive their shutdown.
    setsid "$BIN/prefect" server start --host "$PREFECT_HOST" --port "$PORT" \
        >"$LOG/prefect-server.log" 2>&1 &
    children+=("$!")
    wait_for "The Prefect server" "$!" "$LOG/prefect-server.log" 90 "$PREFECT_API_URL/health"
fi

echo "Serving every deployment of prefect.yaml (log: $LOG/flows.log) ..."
# In the background and waited for, so that a signal reaches the trap at once (bash runs traps
# only after a foreground command ends).
"$BIN/python" -m flows.serve >"$LOG/flows.log" 2>&1 &
served=$!
children+=("$served")
wait_for "The served deployments" "$served" "$LOG/flows.log" 120 "$PREFECT_API_URL" deployments
# A launch whose time passed while Houqin was down is made now, not at the next hourly check.
"$BIN/prefect" deployment run launch-due/launch-due >"$LOG/launch-due.log" 2>&1 \
    || echo "Could not start launch-due (log: $LOG/launch-due.log); it runs within the hour." >&2

cat <<EOF

Houqin is up.
  Web UI:      http://$WEB_HOST:$WEB_PORT  (health: /healthz)
  Prefect UI:  http://$PREFECT_HOST:$PORT
    Deployments: one per plan (launch-plan/<plan>), launch-due, sweep, overdue-digest, deliver.
    Each plan's next launch: Deployments -> the plan -> its schedules and "Upcoming" runs
    (or: PREFECT_API_URL=$PREFECT_API_URL $BIN/prefect deployment ls).
    Every launch date from the calendars: $BIN/houqin deployments
  houqin commands in another shell use this Prefect server by themselves.
  Ctrl-C stops everything.

EOF
wait "$served"
