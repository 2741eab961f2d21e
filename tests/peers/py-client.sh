#!/usr/bin/env bash
# anthunder consumer. See README.md.
#   py-client.sh HOST PORT [scenario ...]     scenarios: proto protofail heartbeat sync (default: all)
# stdout: one JSON line per scenario; exit 0 iff all passed.
# env: EXPECT_PREFIX (e.g. "py:" against the anthunder server), PEER_LOG, PEER_DEADLINE_MS
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ "${PEERS_AUTO_INSTALL:-1}" = 0 ]; then "$here/install.sh" --check; else "$here/install.sh"; fi
exec "$here/.venv/bin/python" -u "$here/py/client.py" "$@"
