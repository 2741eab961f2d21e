#!/usr/bin/env bash
# anthunder provider on 127.0.0.1 (foreground). See README.md.
#   py-server.sh [PORT]              PORT 0 / absent = ephemeral
# stdout: one line "READY <port>"; logs on stderr. Stops on SIGTERM/SIGINT or EOF on stdin.
# env: PEER_LOG, PEER_STDIN_WATCH=0
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ "${PEERS_AUTO_INSTALL:-1}" = 0 ]; then "$here/install.sh" --check; else "$here/install.sh"; fi
exec "$here/.venv/bin/python" -u "$here/py/server.py" "${1:-${PORT:-0}}"
