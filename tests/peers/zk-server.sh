#!/usr/bin/env bash
# Standalone ZooKeeper on 127.0.0.1 for discovery tests (foreground, throw-away data directory).
#   zk-server.sh [PORT]          PORT 0 / absent = a free port
# stdout: one line "READY <port>" once ZooKeeper answers "ruok"; its log goes to stderr.
# Stops on SIGTERM/SIGINT and on EOF on stdin (unless stdin is /dev/null or PEER_STDIN_WATCH=0).
# Needs Debian's "zookeeper" package (ZooKeeper 3.8.0 + a JRE); installed with apt-get when running
# as root. Not part of install.sh because only the registry tests need it.
set -euo pipefail
JAR=/usr/share/java/zookeeper.jar

if [ ! -f "$JAR" ] || ! command -v java >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[zk-server] apt-get install zookeeper" >&2
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -q && apt-get install -y -q --no-install-recommends zookeeper; } >&2
  else
    echo "[zk-server] ERROR: needs the zookeeper package (apt-get install zookeeper) and java" >&2
    exit 1
  fi
fi

port="${1:-${PORT:-0}}"
if [ "$port" = 0 ]; then
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "[zk-server] ERROR: 127.0.0.1:$port is already in use" >&2
  exit 1
fi

dir=$(mktemp -d /tmp/peers-zk.XXXXXX)
cat >"$dir/zoo.cfg" <<CFG
tickTime=2000
initLimit=5
syncLimit=2
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,stat,dump
CFG

zk_pid=
watch_pid=
finish() {
  local rc=${1:-0}
  trap - TERM INT EXIT
  if [ -n "$zk_pid" ]; then
    kill "$zk_pid" 2>/dev/null || true
    wait "$zk_pid" 2>/dev/null || true
  fi
  [ -z "$watch_pid" ] || kill "$watch_pid" 2>/dev/null || true
  rm -rf "$dir"
  exit "$rc"
}
trap 'finish 0' TERM INT
trap 'finish $?' EXIT
exec 5<&0 # keep the real stdin: background jobs of a script get /dev/null as stdin

java -Xmx256m -Dzookeeper.admin.enableServer=false -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -Dorg.slf4j.simpleLogger.logFile=System.err \
  -cp "$JAR:/usr/share/java/slf4j-simple.jar" org.apache.zookeeper.server.ZooKeeperServerMain "$dir/zoo.cfg" \
  </dev/null >&2 &
zk_pid=$!

ruok() {
  exec 4<>"/dev/tcp/127.0.0.1/$port" || return 1
  printf ruok >&4
  local reply
  reply=$(timeout 1 cat <&4 || true)
  exec 4<&-
  [ "$reply" = imok ]
}
ready=
for _ in $(seq 1 300); do
  kill -0 "$zk_pid" 2>/dev/null || { echo "[zk-server] ERROR: java exited" >&2; zk_pid=; finish 1; }
  if ruok 2>/dev/null; then ready=1; break; fi
  sleep 0.1
done
[ -n "$ready" ] || { echo "[zk-server] ERROR: ZooKeeper not ready within 30 s" >&2; finish 1; }
echo "READY $port"

stdin_dev=$(stat -L -c '%F %t:%T' /proc/self/fd/0 2>/dev/null || true)
null_dev=$(stat -c '%F %t:%T' /dev/null)
if [ "${PEER_STDIN_WATCH:-1}" != 0 ] && [ "$stdin_dev" != "$null_dev" ]; then
  # Reads stdin until EOF in the background, then asks this script to stop.
  (cat <&5 >/dev/null; kill -TERM $$ 2>/dev/null) &
  watch_pid=$!
fi
wait "$zk_pid" || true
zk_pid=
finish 0
