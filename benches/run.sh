#!/usr/bin/env bash
# Side-by-side echo benchmark of sofa-rpc-rs against raw-TCP references and tarpc.
#
#   benches/run.sh                          # full matrix, 3 interleaved repetitions
#   REPS=1 DURATION=2 CELLS="1:16" PAYLOADS=128 benches/run.sh    # a quick look
#
# Every run starts a fresh server pinned to CPU $SERVER_CPU and a client pinned to $CLIENT_CPU
# (1 worker thread each, so: one core serving, one core loading), on 127.0.0.1 with a free port.
# Runs are interleaved (for each repetition, for each cell, every framework once) so that drift
# of the machine hits all alike. Results: one JSON line per run in $OUT, then tables of medians
# with ratios against `raw` and `raw-pipe` from the same repetitions.
#
# Env: REPS (3), DURATION (5 s), WARMUP (1 s), PAYLOADS ("128 4096"), CELLS ("1:1 1:16 1:128 4:16
# 4:128", conns:in-flight), FRAMEWORKS ("raw-pipe raw sofa tarpc"; `raw-pipe` is the pipelined
# raw client against the raw server, `sofa-tls` is the sofa binaries with --tls, a self-signed
# certificate made by the server at start), SERVER_CPU (0), CLIENT_CPU (1),
# BIN (target/release: where the <framework>-bench-server/-client binaries are),
# OUT (target/bench-results/<timestamp>.jsonl), SKIP_BUILD=1.
set -euo pipefail
cd "$(dirname "$0")/.."

REPS=${REPS:-3}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
PAYLOADS=${PAYLOADS:-"128 4096"}
CELLS=${CELLS:-"1:1 1:16 1:128 4:16 4:128"}
FRAMEWORKS=${FRAMEWORKS:-"raw-pipe raw sofa tarpc"}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
OUT=${OUT:-target/bench-results/$(date +%Y%m%d-%H%M%S).jsonl}
BIN=${BIN:-target/release}

command -v taskset >/dev/null || { echo "taskset (util-linux) is required" >&2; exit 1; }
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  cargo build --release -q -p sofa-rpc-benches --bins
fi
mkdir -p "$(dirname "$OUT")"
BUDGET=$(awk "BEGIN { print int($DURATION + $WARMUP + 30) }")
SPID=""
TLS_DIR=$(mktemp -d)
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$TLS_DIR"' EXIT

# The binaries of a framework name, and the arguments both of them take for it.
bin_of() { case "$1" in sofa-tls) echo sofa ;; *) echo "$1" ;; esac; }
args_of() { case "$1" in sofa-tls) echo "--tls $TLS_DIR" ;; esac; }

# Starts the server of framework $1 on a free port; sets SPID and PORT.
start_server() {
  local log
  log=$(mktemp)
  # shellcheck disable=SC2046
  taskset -c "$SERVER_CPU" "$BIN/$(bin_of "$1")-bench-server" --addr 127.0.0.1:0 --threads 1 $(args_of "$1") 2>"$log" &
  SPID=$!
  PORT=""
  for _ in $(seq 1 100); do
    PORT=$(grep -o '127.0.0.1:[0-9]*' "$log" | head -1 | cut -d: -f2 || true)
    [ -n "$PORT" ] && break
    sleep 0.05
  done
  rm -f "$log"
  [ -n "$PORT" ] || { echo "$1 server did not start" >&2; kill "$SPID" 2>/dev/null; return 1; }
}

for rep in $(seq 1 "$REPS"); do
  for payload in $PAYLOADS; do
    for cell in $CELLS; do
      conns=${cell%%:*}
      conc=${cell##*:}
      for fw in $FRAMEWORKS; do
        start_server "$fw"
        # shellcheck disable=SC2046
        line=$(taskset -c "$CLIENT_CPU" timeout "$BUDGET" "$BIN/$(bin_of "$fw")-bench-client" $(args_of "$fw") \
          --addr "127.0.0.1:$PORT" --conns "$conns" --concurrency "$conc" --payload "$payload" \
          --duration "$DURATION" --warmup "$WARMUP" --threads 1 --server-pid "$SPID" \
          --label "rep$rep" || echo "{\"framework\":\"$fw\",\"failed\":true}")
        # Named as run here, so two builds of one framework can sit side by side.
        line=$(printf '%s' "$line" | sed "s/\"framework\":\"[^\"]*\"/\"framework\":\"$fw\"/")
        kill "$SPID" 2>/dev/null || true
        wait "$SPID" 2>/dev/null || true
        echo "$line" >>"$OUT"
        echo "rep $rep p=$payload conns=$conns c=$conc $fw: $line" >&2
      done
    done
  done
done

python3 benches/summarize.py "$OUT"
