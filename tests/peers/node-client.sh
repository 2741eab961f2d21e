#!/usr/bin/env bash
# sofa-rpc-node consumer. See README.md.
#   node-client.sh HOST PORT [scenario ...]
# stdout: one JSON line per scenario; exit 0 iff all passed.
# env: HESSIAN_VERSION=4.0, ZK_ADDRESS=127.0.0.1:<port>, SEPARATE=1, EXPECT_PREFIX, PEER_WIRE=1, PEER_LOG,
#      PEER_DEADLINE_MS
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ "${PEERS_AUTO_INSTALL:-1}" = 0 ]; then "$here/install.sh" --check; else "$here/install.sh"; fi
exec node "$here/node/client.js" "$@"
