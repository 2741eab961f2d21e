# Shared helpers for the registry test-server scripts (sourced, not run).
#
# Contract of every start-*.sh script:
#   * installs what is missing (REG_INSTALL=0 turns that off and fails instead),
#   * starts the server on 127.0.0.1, on a free port unless REG_PORT names one,
#   * prints one line `READY <port> [<extra port>...]` on stdout when clients can connect
#     (everything else goes to stderr),
#   * keeps running in the foreground and stops the server cleanly when it gets SIGTERM or
#     SIGINT, when its stdin reaches end-of-file, or when the server dies (exit 1 then),
#   * keeps data in a fresh temporary directory removed on exit, or in REG_DATA_DIR (kept).
# Other knobs: REG_START_TIMEOUT (seconds to wait for readiness, default 60).

set -euo pipefail

REG_NAME="${REG_NAME:-registry}"
SERVER_PID=""
DATA_DIR=""
OWN_DATA_DIR=0
STOPPING=0

log() { printf '%s: %s\n' "$REG_NAME" "$*" >&2; }
die() { log "$*"; exit 1; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# apt_install PKG...: installs Debian packages without prompts (root or sudo needed).
apt_install() {
  [ "${REG_INSTALL:-1}" = 1 ] || die "missing packages: $* (REG_INSTALL=0)"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || die "need root or sudo to apt-get install $*"
    sudo="sudo -n"
  fi
  local t0 opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=600)
  t0=$(now)
  log "installing Debian packages: $*"
  if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install "${opts[@]}" "$@" >&2; then
    $sudo apt-get -o DPkg::Lock::Timeout=600 update -q >&2
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install "${opts[@]}" "$@" >&2
  fi
  log "installed $* in $(elapsed "$t0") s"
}

# port_free PORT: true when nothing accepts connections on 127.0.0.1:PORT.
port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# pick_port OFFSET...: prints a port P such that P+OFFSET is free for every OFFSET (0 is
# always checked). Ports come from 20000-29999, below Linux's ephemeral range (32768+), so
# +2000 stays out of it too. The server may still lose a race for the port: callers retry.
pick_port() {
  local tries p ok off
  for ((tries = 0; tries < 200; tries++)); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 10000))
    ok=1
    for off in 0 "$@"; do
      port_free $((p + off)) || { ok=0; break; }
    done
    [ "$ok" = 1 ] && { echo "$p"; return 0; }
  done
  die "no free port found"
}

# make_data_dir: sets DATA_DIR (REG_DATA_DIR, kept, or a fresh temp dir, removed on exit).
make_data_dir() {
  if [ -n "${REG_DATA_DIR:-}" ]; then
    DATA_DIR="$REG_DATA_DIR"
    mkdir -p "$DATA_DIR"
  else
    DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/sofa-registry-$REG_NAME.XXXXXX")"
    OWN_DATA_DIR=1
  fi
}

# stop_process: SIGTERM to the server, SIGKILL after 10 s.
stop_process() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$SERVER_PID" 2>/dev/null; then
      log "server did not stop in 10 s; killing it"
      kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}

# stop_server: stops the server and removes a temporary data dir (once).
stop_server() {
  [ "$STOPPING" = 1 ] && return 0
  STOPPING=1
  stop_process
  if [ "$OWN_DATA_DIR" = 1 ] && [ -n "$DATA_DIR" ]; then
    rm -rf "$DATA_DIR"
  fi
}

on_signal() {
  log "stopping (signal)"
  stop_server
  exit 0
}

trap stop_server EXIT
trap on_signal TERM INT HUP

# wait_ready CHECK_FUNCTION: polls until the function succeeds; fails when the server exits
# or REG_START_TIMEOUT passes. $SERVER_LOG is shown on failure.
wait_ready() {
  local check="$1" deadline
  deadline=$(( $(date +%s) + ${REG_START_TIMEOUT:-60} ))
  until "$check"; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      log "server exited during start-up; last log lines:"
      tail -n 30 "$SERVER_LOG" >&2 || true
      return 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "server not ready after ${REG_START_TIMEOUT:-60} s; last log lines:"
      tail -n 30 "$SERVER_LOG" >&2 || true
      return 1
    fi
    sleep 0.1
  done
}

# serve_until_done: after READY, waits for end-of-file on stdin (or a line `stop`), a signal,
# or the server's death.
serve_until_done() {
  local line rc
  while :; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      log "server died; last log lines:"
      tail -n 30 "$SERVER_LOG" >&2 || true
      SERVER_PID=""
      exit 1
    fi
    rc=0
    IFS= read -r -t 1 line || rc=$?
    if [ "$rc" = 0 ]; then
      [ "$line" = stop ] && break
    elif [ "$rc" -le 128 ]; then
      break # end of file
    fi
  done
  log "stopping (stdin closed)"
  stop_server
  exit 0
}
