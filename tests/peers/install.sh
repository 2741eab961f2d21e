#!/usr/bin/env bash
# Installs what the interop peers in this directory need, into git-ignored places:
#   node/node_modules/   sofa-rpc-node, sofa-bolt-node, antpb (exact tree from node/package-lock.json, npm ci)
#   .venv/               anthunder and friends (py/requirements.txt, every version pinned)
#   py/gen/echo_pb2.py   generated from proto/echo.proto with grpcio-tools' protoc
# Missing system packages (nodejs, npm, python3, python3-venv) are installed with apt-get when running
# as root; otherwise the script stops and says what to install.
#
# usage: install.sh            install / update if anything changed (fast no-op when up to date)
#        install.sh --force    reinstall everything
#        install.sh --check    exit 0 if up to date, 1 if not; changes nothing
#
# Up to date = .install/stamp holds the hash of the inputs below and the installed trees exist.
# All output goes to stderr (the peer scripts call this and keep stdout for their own contract).
# Concurrent runs are serialized with flock on .install/lock.
set -euo pipefail
exec 1>&2

PEERS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="$PEERS/.install"
STAMP="$STATE/stamp"
MODE="${1:-install}"
case "$MODE" in
  install|--force|--check) ;;
  *) echo "usage: $0 [--force|--check]"; exit 2 ;;
esac

say() { printf '[peers/install] %s\n' "$*"; }
die() { printf '[peers/install] ERROR: %s\n' "$*"; exit 1; }

inputs_hash() {
  {
    printf 'layout 1\n'
    uname -m
    cat "$PEERS/install.sh" "$PEERS/node/package.json" "$PEERS/node/package-lock.json" \
        "$PEERS/py/requirements.txt" "$PEERS/proto/echo.proto"
  } | sha256sum | cut -d' ' -f1
}

installed_ok() {
  [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(inputs_hash)" ] \
    && [ -f "$PEERS/node/node_modules/sofa-rpc-node/package.json" ] \
    && [ -f "$PEERS/py/gen/echo_pb2.py" ] \
    && "$PEERS/.venv/bin/python" -c '' 2>/dev/null
}

if [ "$MODE" = --check ]; then
  installed_ok && exit 0
  say "not installed or out of date: run $PEERS/install.sh"
  exit 1
fi
if [ "$MODE" = install ] && installed_ok; then
  exit 0
fi

mkdir -p "$STATE"
exec 9>"$STATE/lock"
flock 9
# Another run may have finished the job while this one waited for the lock.
if [ "$MODE" = install ] && installed_ok; then
  exit 0
fi
rm -f "$STAMP"
started=$(date +%s)

# ---------------------------------------------------------------- system packages
python_has_venv() { python3 -c 'import venv, ensurepip' >/dev/null 2>&1; }
missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if ! command -v python3 >/dev/null 2>&1; then
  missing+=(python3 python3-venv)
elif ! python_has_venv; then
  missing+=(python3-venv)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    die "missing system packages: ${missing[*]} (run as root: apt-get update && apt-get install -y ${missing[*]})"
  fi
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and apt-get is not available"
  say "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
command -v node >/dev/null 2>&1 || die "node still missing after apt-get"
command -v npm >/dev/null 2>&1 || die "npm still missing after apt-get"
python_has_venv || die "$(command -v python3) cannot create virtual environments (venv/ensurepip missing)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 14 ] || die "node $(node --version) is too old (need >= 14)"

# ---------------------------------------------------------------- node peers
if grep -q '"resolved"' "$PEERS/node/package-lock.json"; then
  die "node/package-lock.json records registry addresses (\"resolved\"); regenerate it with --omit-lockfile-registry-resolved"
fi
say "npm ci (node $(node --version), npm $(npm --version))"
(cd "$PEERS/node" && npm ci --no-audit --no-fund --loglevel=error)

# ---------------------------------------------------------------- python peers
venv="$PEERS/.venv"
want_py=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
have_py=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)
if [ "$MODE" = --force ] || [ "$have_py" != "$want_py" ]; then
  say "creating venv with $(command -v python3) ($want_py)"
  rm -rf "$venv"
  python3 -m venv "$venv"
fi
say "pip install -r py/requirements.txt"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input --no-deps \
  -r "$PEERS/py/requirements.txt"
"$venv/bin/python" -m pip check --disable-pip-version-check >/dev/null \
  || { "$venv/bin/python" -m pip check --disable-pip-version-check; die "inconsistent python packages"; }

say "generating py/gen/echo_pb2.py"
rm -rf "$PEERS/py/gen"
mkdir -p "$PEERS/py/gen"
"$venv/bin/python" -m grpc_tools.protoc -I "$PEERS/proto" --python_out="$PEERS/py/gen" "$PEERS/proto/echo.proto"

inputs_hash >"$STAMP.tmp"
mv "$STAMP.tmp" "$STAMP"
say "done in $(( $(date +%s) - started )) s"
