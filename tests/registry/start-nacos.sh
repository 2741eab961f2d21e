#!/usr/bin/env bash
# Runs r-nacos (crate `rnacos`, a Nacos-compatible server in Rust: Nacos v1 HTTP API and the
# 2.x gRPC API the nacos-sdk crate speaks) on 127.0.0.1 for tests.
# Prints `READY <http port> <grpc port>` on stdout (gRPC = HTTP + 1000, the port nacos-sdk
# derives from the HTTP address; the console takes HTTP + 2000), then serves until
# SIGTERM/SIGINT or end of stdin.
# The binary: RNACOS_BIN, else the cache, else `rnacos` on PATH; when none exists it is built
# into the cache with `cargo install rnacos --version $RNACOS_VERSION --locked` (debug profile
# without debug info: ~3 min on 2 cores, measured 174 s; REG_INSTALL=0: fail instead).
# r-nacos's "instance metadata persistence" is turned off: with it, the first metadata an
# ip:port registered sticks (a later registration with a new weight is ignored), unlike Nacos.
# Env: REG_PORT (HTTP port; default: a free one with +1000 and +2000 free too), REG_DATA_DIR
#      (kept data dir; default: temp, removed), REG_START_TIMEOUT (s, default 60),
#      SOFA_REGISTRY_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/sofa-rpc-rs/registry).
REG_NAME=nacos
# shellcheck source=tests/registry/lib.sh
. "$(dirname "$0")/lib.sh"

RNACOS_VERSION=0.8.8
CACHE="${SOFA_REGISTRY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sofa-rpc-rs/registry}"
CACHED_BIN="$CACHE/rnacos-$RNACOS_VERSION/bin/rnacos"

install_rnacos() {
  [ "${REG_INSTALL:-1}" = 1 ] || die "rnacos not found (REG_INSTALL=0); set RNACOS_BIN or build it: cargo install rnacos --version $RNACOS_VERSION --locked"
  command -v cargo >/dev/null || die "cargo is needed to build rnacos"
  mkdir -p "$CACHE"
  # One build at a time; a second caller waits and then finds the binary.
  exec 9>"$CACHE/rnacos.lock"
  flock 9
  if [ ! -x "$CACHED_BIN" ]; then
    local t0 build
    t0=$(now)
    build="$(mktemp -d "${TMPDIR:-/tmp}/rnacos-build.XXXXXX")"
    log "building rnacos $RNACOS_VERSION into $CACHE (one-time, several minutes)"
    # Debug profile without debug info: the quickest build that serves a test well.
    if ! CARGO_TARGET_DIR="$build" CARGO_PROFILE_DEV_DEBUG=0 CARGO_INCREMENTAL=0 \
        cargo install rnacos --version "$RNACOS_VERSION" --locked --debug \
        --root "$CACHE/rnacos-$RNACOS_VERSION" >&2; then
      rm -rf "$build"
      die "cargo install rnacos failed"
    fi
    rm -rf "$build"
    log "built rnacos in $(elapsed "$t0") s"
  fi
  flock -u 9
}

BIN="${RNACOS_BIN:-}"
if [ -z "$BIN" ]; then
  if [ -x "$CACHED_BIN" ]; then
    BIN="$CACHED_BIN"
  elif command -v rnacos >/dev/null; then
    BIN="$(command -v rnacos)"
  else
    install_rnacos
    BIN="$CACHED_BIN"
  fi
fi
[ -x "$BIN" ] || die "rnacos binary $BIN is not executable"

make_data_dir
SERVER_LOG="$DATA_DIR/rnacos.log"

answers() {
  # The naming API answers once the server (and its raft store) is up.
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT" &&
    printf 'GET /nacos/v1/ns/service/list?pageNo=1&pageSize=1 HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 &&
    timeout 2 head -n 1 <&3 | grep -q ' 200') 2>/dev/null &&
  (exec 3<>"/dev/tcp/127.0.0.1/$GRPC_PORT") 2>/dev/null
}

attempt=0
while :; do
  attempt=$((attempt + 1))
  PORT="${REG_PORT:-$(pick_port 1000 2000)}"
  GRPC_PORT=$((PORT + 1000))
  mkdir -p "$DATA_DIR/db"
  t0=$(now)
  # rnacos reads a .env file from its working directory: run it in the data dir.
  (cd "$DATA_DIR" && exec env \
      RNACOS_HTTP_PORT="$PORT" \
      RNACOS_GRPC_PORT="$GRPC_PORT" \
      RNACOS_HTTP_CONSOLE_PORT=$((PORT + 2000)) \
      RNACOS_SDK_HOST=127.0.0.1 \
      RNACOS_CONSOLE_HOST=127.0.0.1 \
      RNACOS_RAFT_NODE_ADDR="127.0.0.1:$GRPC_PORT" \
      RNACOS_DATA_DIR="$DATA_DIR/db" \
      RNACOS_ENABLE_METRICS=false \
      RNACOS_NAMING_INSTANCE_METADATA_PERSISTENCE_ENABLE=false \
      RNACOS_HTTP_WORKERS=2 \
      RUST_LOG="${RUST_LOG:-warn}" \
      "$BIN" >"$SERVER_LOG" 2>&1 </dev/null) &
  SERVER_PID=$!
  if wait_ready answers; then
    break
  fi
  stop_process
  [ -z "${REG_PORT:-}" ] && [ "$attempt" -lt 3 ] || die "rnacos did not start"
done
log "r-nacos ready on 127.0.0.1:$PORT (gRPC $GRPC_PORT, pid $SERVER_PID) in $(elapsed "$t0") s; data in $DATA_DIR"
echo "READY $PORT $GRPC_PORT"
serve_until_done
