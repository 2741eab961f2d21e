#!/usr/bin/env bash
# Runs the peers against each other (no Rust involved) to check the harness itself:
#   node -> node (Hessian 3.0 dialect, then 4.0 on both ends, then SEPARATE=1)
#   anthunder -> node, node -> anthunder, anthunder -> anthunder
# and checks that a server exits when its stdin is closed and when it gets SIGTERM.
#
# usage: selftest.sh            prints a summary line per check; exit 0 iff all passed
# Logs of the servers go to $SELFTEST_LOG (default: a temp file, printed at the end on failure).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/install.sh" || exit 1
export PEERS_AUTO_INSTALL=0

log="${SELFTEST_LOG:-$(mktemp /tmp/peers-selftest.XXXXXX.log)}"
work="$(mktemp -d /tmp/peers-selftest.XXXXXX)"
passed=0
failed=0
declare -a server_pids=()

cleanup() {
  local p
  for p in "${server_pids[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

result() { # name ok|fail detail
  if [ "$2" = ok ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  printf '%-4s %s %s\n' "$2" "$1" "${3:-}"
}

# start_server NAME CMD... : runs CMD with stdin on a FIFO held open by this shell.
# Sets SRV_PID, SRV_PORT, SRV_FD (write end of the FIFO: close it to signal "parent gone").
start_server() {
  local name=$1; shift
  local fifo="$work/$name.stdin" out="$work/$name.out"
  mkfifo "$fifo"
  "$@" <"$fifo" >"$out" 2>>"$log" &
  SRV_PID=$!
  server_pids+=("$SRV_PID")
  exec {SRV_FD}>"$fifo"
  local i
  for i in $(seq 1 200); do
    if grep -q '^READY ' "$out"; then
      SRV_PORT=$(awk '/^READY /{print $2; exit}' "$out")
      return 0
    fi
    kill -0 "$SRV_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "server $name did not print READY (see $log)" >&2
  return 1
}

# wait_gone PID SECONDS: true if PID exits within SECONDS.
wait_gone() {
  local i
  for i in $(seq 1 $(($2 * 10))); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}

# run_client NAME EXPECTED_COUNT CMD...: all JSON lines ok, count as expected, exit 0.
run_client() {
  local name=$1 want=$2; shift 2
  local out="$work/$name.jsonl" rc n bad
  local t0=$(date +%s%N)
  "$@" >"$out" 2>>"$log"
  rc=$?
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  n=$(grep -c '"scenario"' "$out")
  bad=$(grep -v '"ok": *true' "$out" | head -3 | tr '\n' ' ')
  if [ $rc = 0 ] && [ "$n" = "$want" ] && [ -z "$bad" ]; then
    result "$name" ok "($n scenarios, ${ms} ms)"
  else
    result "$name" fail "(rc=$rc, $n/$want lines) $bad"
  fi
}

# ---------------------------------------------------------------- node server, Hessian 3.0 dialect
start_server node3 "$here/node-server.sh" 0 || exit 1
node3_pid=$SRV_PID node3_fd=$SRV_FD node3_port=$SRV_PORT
run_client "node->node (hessian 3.0)" 17 "$here/node-client.sh" 127.0.0.1 "$node3_port"
SEPARATE=1 run_client "node->node (hessian 3.0, SEPARATE=1)" 17 "$here/node-client.sh" 127.0.0.1 "$node3_port"
run_client "node->node failReturn" 1 "$here/node-client.sh" 127.0.0.1 "$node3_port" failReturn
run_client "anthunder->node" 4 "$here/py-client.sh" 127.0.0.1 "$node3_port"

exec {node3_fd}>&-
if wait_gone "$node3_pid" 5; then result "node server exits on stdin EOF" ok; else result "node server exits on stdin EOF" fail; fi

# ---------------------------------------------------------------- node server, Hessian 4.0 dialect
HESSIAN_VERSION=4.0 start_server node4 "$here/node-server.sh" 0 || exit 1
node4_pid=$SRV_PID node4_port=$SRV_PORT
HESSIAN_VERSION=4.0 run_client "node->node (hessian 4.0)" 17 "$here/node-client.sh" 127.0.0.1 "$node4_port"
kill -TERM "$node4_pid"
if wait_gone "$node4_pid" 5; then result "node server exits on SIGTERM" ok; else result "node server exits on SIGTERM" fail; fi

# ---------------------------------------------------------------- anthunder server
start_server py "$here/py-server.sh" 0 || exit 1
py_pid=$SRV_PID py_fd=$SRV_FD py_port=$SRV_PORT
run_client "node->anthunder" 3 "$here/node-client.sh" 127.0.0.1 "$py_port" proto protofail heartbeat
EXPECT_PREFIX=py: run_client "anthunder->anthunder" 4 "$here/py-client.sh" 127.0.0.1 "$py_port"
exec {py_fd}>&-
if wait_gone "$py_pid" 5; then result "anthunder server exits on stdin EOF" ok; else result "anthunder server exits on stdin EOF" fail; fi

start_server py2 "$here/py-server.sh" 0 || exit 1
py2_pid=$SRV_PID
kill -TERM "$py2_pid"
if wait_gone "$py2_pid" 5; then result "anthunder server exits on SIGTERM" ok; else result "anthunder server exits on SIGTERM" fail; fi

echo "$passed passed, $failed failed"
if [ "$failed" != 0 ]; then
  echo "server logs: $log" >&2
  exit 1
fi
[ -n "${SELFTEST_LOG:-}" ] || rm -f "$log"
exit 0
