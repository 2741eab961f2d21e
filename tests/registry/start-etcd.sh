#!/usr/bin/env bash
# Runs a single-member etcd (Debian packages `etcd-server` + `etcd-client`, 3.4) on 127.0.0.1.
# Prints `READY <client port>` on stdout, then serves until SIGTERM/SIGINT or end of stdin.
# Installs the packages with apt-get when missing (REG_INSTALL=0: fail).
# Env: REG_PORT (client port; default: a free port), REG_DATA_DIR (kept data dir; default:
#      temp, removed; the peer port is remembered in it), REG_START_TIMEOUT (s, default 60).
REG_NAME=etcd
# shellcheck source=tests/registry/lib.sh
. "$(dirname "$0")/lib.sh"

need=()
command -v etcd >/dev/null || need+=(etcd-server)
command -v etcdctl >/dev/null || need+=(etcd-client)
[ ${#need[@]} = 0 ] || apt_install "${need[@]}"

make_data_dir
SERVER_LOG="$DATA_DIR/etcd.log"

healthy() {
  ETCDCTL_API=3 etcdctl --endpoints "http://127.0.0.1:$PORT" --dial-timeout=1s \
    --command-timeout=2s endpoint health >/dev/null 2>&1
}

attempt=0
while :; do
  attempt=$((attempt + 1))
  PORT="${REG_PORT:-$(pick_port)}"
  if [ -f "$DATA_DIR/peer-port" ]; then
    PEER_PORT=$(cat "$DATA_DIR/peer-port")
  else
    PEER_PORT=$(pick_port)
    [ "$PEER_PORT" != "$PORT" ] || PEER_PORT=$(pick_port)
  fi
  t0=$(now)
  # etcd reads ETCD_* variables as flags: start it with none of ours.
  env -u ETCD_NAME etcd --name registry-test \
    --data-dir "$DATA_DIR/member-data" \
    --listen-client-urls "http://127.0.0.1:$PORT" \
    --advertise-client-urls "http://127.0.0.1:$PORT" \
    --listen-peer-urls "http://127.0.0.1:$PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
    --initial-cluster "registry-test=http://127.0.0.1:$PEER_PORT" \
    --initial-cluster-state new \
    --logger zap --log-level warn --log-outputs stderr \
    >"$SERVER_LOG" 2>&1 </dev/null &
  SERVER_PID=$!
  if wait_ready healthy; then
    echo "$PEER_PORT" >"$DATA_DIR/peer-port"
    break
  fi
  stop_process
  [ -z "${REG_PORT:-}" ] && [ "$attempt" -lt 3 ] || die "etcd did not start"
done
log "etcd ready on 127.0.0.1:$PORT (peer $PEER_PORT, pid $SERVER_PID) in $(elapsed "$t0") s; data in $DATA_DIR"
echo "READY $PORT"
serve_until_done
