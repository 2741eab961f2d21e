#!/usr/bin/env bash
# Runs a standalone ZooKeeper (Debian package `zookeeper`, 3.8) on 127.0.0.1 for tests.
# Prints `READY <client port>` on stdout, then serves until SIGTERM/SIGINT or end of stdin.
# Installs `zookeeper` and a headless JRE with apt-get when missing (REG_INSTALL=0: fail).
# Env: REG_PORT (default: a free port), REG_DATA_DIR (kept data dir; default: temp, removed),
#      REG_START_TIMEOUT (s, default 60), ZK_LOG_LEVEL (default warn).
# tickTime is 1 s, so sessions may be 2-60 s long (minSessionTimeout/maxSessionTimeout).
REG_NAME=zookeeper
# shellcheck source=tests/registry/lib.sh
. "$(dirname "$0")/lib.sh"

JAR=/usr/share/java/zookeeper.jar
need=()
[ -f "$JAR" ] || need+=(zookeeper)
command -v java >/dev/null || need+=(default-jre-headless)
[ ${#need[@]} = 0 ] || apt_install "${need[@]}"
[ -f "$JAR" ] || die "$JAR is missing after installing zookeeper"

make_data_dir
SERVER_LOG="$DATA_DIR/zookeeper.log"
CLASSPATH="$DATA_DIR/conf:$JAR"
# The Debian jar's manifest lists its dependencies; slf4j-simple gives it a logger.
[ -f /usr/share/java/slf4j-simple.jar ] && CLASSPATH="$CLASSPATH:/usr/share/java/slf4j-simple.jar"

imok() {
  local reply
  reply=$( (exec 3<>"/dev/tcp/127.0.0.1/$PORT" && printf ruok >&3 && timeout 2 cat <&3) 2>/dev/null || true)
  [ "$reply" = imok ]
}

attempt=0
while :; do
  attempt=$((attempt + 1))
  PORT="${REG_PORT:-$(pick_port)}"
  mkdir -p "$DATA_DIR/conf" "$DATA_DIR/data"
  cat >"$DATA_DIR/conf/zoo.cfg" <<CFG
tickTime=1000
minSessionTimeout=2000
maxSessionTimeout=60000
dataDir=$DATA_DIR/data
clientPort=$PORT
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,stat,mntr
CFG
  t0=$(now)
  # Small heap, serial GC and C1 only: the JVM starts in about a second on 2 cores.
  java -Xms32m -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
    -Dzookeeper.jmx.log4j.disable=true \
    -Dorg.slf4j.simpleLogger.defaultLogLevel="${ZK_LOG_LEVEL:-warn}" \
    -cp "$CLASSPATH" org.apache.zookeeper.server.ZooKeeperServerMain "$DATA_DIR/conf/zoo.cfg" \
    >"$SERVER_LOG" 2>&1 </dev/null &
  SERVER_PID=$!
  if wait_ready imok; then
    break
  fi
  stop_process
  # Lost a race for the port? Try another one, unless the caller asked for this one.
  [ -z "${REG_PORT:-}" ] && [ "$attempt" -lt 3 ] || die "ZooKeeper did not start"
done
log "ZooKeeper ready on 127.0.0.1:$PORT (pid $SERVER_PID) in $(elapsed "$t0") s; data in $DATA_DIR"
echo "READY $PORT"
serve_until_done
