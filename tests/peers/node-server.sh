#!/usr/bin/env bash
# sofa-rpc-node provider on 127.0.0.1 (foreground). See README.md.
#   node-server.sh [PORT]            PORT 0 / absent = ephemeral
# stdout: one line "READY <port>"; logs on stderr. Stops on SIGTERM/SIGINT or EOF on stdin.
# env: HESSIAN_VERSION=4.0, ZK_ADDRESS=127.0.0.1:<port>, NODE_CLUSTER_CLIENT_PORT, PEER_LOG, PEER_STDIN_WATCH=0
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ "${PEERS_AUTO_INSTALL:-1}" = 0 ]; then "$here/install.sh" --check; else "$here/install.sh"; fi
export PORT="${1:-${PORT:-0}}"
exec node "$here/node/server.js"
