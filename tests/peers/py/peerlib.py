"""Shared set-up for the anthunder peers (server.py, client.py).

Import this module before anything from anthunder: it makes the generated protobuf module
importable, keeps anthunder away from its service-mesh sidecar and routes logging to stderr.
"""
import logging
import os
import stat
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
GEN_DIR = os.path.join(HERE, "gen")
if not os.path.isfile(os.path.join(GEN_DIR, "echo_pb2.py")):
    sys.stderr.write("generated %s/echo_pb2.py is missing: run tests/peers/install.sh\n" % GEN_DIR)
    sys.exit(2)
sys.path.insert(0, GEN_DIR)

# stdout carries only the machine-readable contract (READY line / JSON lines): keep a private handle
# on it and point fd 1 / sys.stdout at stderr so that nothing else can end up there.
_contract_out = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
os.dup2(2, 1)
sys.stdout = sys.stderr


def contract_line(text):
    _contract_out.write(text + "\n")
    _contract_out.flush()


_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
           "error": logging.ERROR, "silent": logging.CRITICAL + 10}


def setup_logging(tag):
    """PEER_LOG=debug|info|warn|error|silent (default warn); everything goes to stderr."""
    level = _LEVELS.get(os.environ.get("PEER_LOG", "warn"), logging.WARNING)
    logging.basicConfig(stream=sys.stderr, level=level,
                        format="[" + tag + " %(levelname)s] %(name)s: %(message)s")
    # anthunder logs an ERROR for the mesh sidecar we switch off on purpose (see below).
    logging.getLogger("anthunder.client.base").setLevel(max(level, logging.CRITICAL))
    logging.getLogger("anthunder.listener.base_listener").setLevel(max(level, logging.CRITICAL))
    return logging.getLogger(tag)


def _disable_mesh():
    # anthunder's clients and listeners register with a MOSN sidecar over HTTP on 127.0.0.1:13330
    # when they are created. The peers talk to explicit addresses only, so make that step fail fast
    # without any traffic (anthunder catches the error and carries on without the mesh).
    from anthunder.mesh import mesh_client

    def _startup_disabled(self):
        raise RuntimeError("service mesh disabled for the sofa-rpc-rs peers")

    mesh_client.MeshClient.startup = _startup_disabled


_disable_mesh()


def stdin_is_dev_null():
    try:
        st = os.fstat(0)
        nul = os.stat(os.devnull)
    except OSError:
        return False
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == nul.st_rdev


def watch_stdin(on_gone, log):
    """Call on_gone() (from a daemon thread) once stdin hits EOF: the spawning process went away.

    Disabled when stdin is /dev/null or PEER_STDIN_WATCH=0."""
    if os.environ.get("PEER_STDIN_WATCH") == "0":
        return False
    if stdin_is_dev_null():
        log.info("stdin is /dev/null: not watching it (stop me with SIGTERM)")
        return False

    def _run():
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        log.info("stdin closed: shutting down")
        on_gone()

    threading.Thread(target=_run, name="stdin-watch", daemon=True).start()
    return True


def start_deadline(ms, what):
    """Hard stop for a whole run: exit 3 if still running after ms milliseconds."""
    def _expire():
        sys.stderr.write("%s: overall deadline of %d ms expired\n" % (what, ms))
        sys.stderr.flush()
        os._exit(3)

    t = threading.Timer(ms / 1000.0, _expire)
    t.daemon = True
    t.start()
    return t
