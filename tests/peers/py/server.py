"""anthunder (sofa-bolt-python) provider for the interop tests; see ../README.md for the contract.

    python server.py [PORT]        (PORT 0 or absent = ephemeral)

stdout: exactly one line "READY <port>" once the listener accepts connections.
Serves com.example.ProtoEchoService:1.0 over bolt v1 + protobuf:
    echoObj(EchoRequest) -> EchoResponse{code: 200, message: "py:hello <name>, you are in <group>"}
    failObj(EchoRequest) -> the handler raises (anthunder answers status 0x0003 UNKNOWN, empty body)
Heartbeats are answered by anthunder's listener itself.
Stops on SIGTERM / SIGINT and when stdin reaches EOF (unless stdin is /dev/null or PEER_STDIN_WATCH=0).
"""
import os
import signal
import sys
import threading
import time

import peerlib

log = peerlib.setup_logging("py-server")

from anthunder import AioListener, BaseService  # noqa: E402  (after peerlib on purpose)
from echo_pb2 import EchoRequest, EchoResponse, Group  # noqa: E402

BIND_HOST = "127.0.0.1"
INTERFACE = "com.example.ProtoEchoService:1.0"


class ProtoEchoService(BaseService):
    """anthunder creates one instance per request and calls the method named in the bolt header
    (sofa_head_method_name) with the raw request content; the return value is the raw response."""

    @staticmethod
    def _decode(body):
        req = EchoRequest()
        req.ParseFromString(body)
        return req

    def echoObj(self, body):
        req = self._decode(body)
        msg = "py:hello %s, you are in %s" % (req.name, Group.Name(req.group))
        return EchoResponse(code=200, message=msg).SerializeToString()

    def failObj(self, body):
        req = self._decode(body)
        raise RuntimeError("py proto boom: " + req.name)


def main():
    arg = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PORT", "0")
    try:
        port = int(arg)
        if not 0 <= port <= 65535:
            raise ValueError(arg)
    except ValueError:
        sys.stderr.write("bad port %r\n" % arg)
        return 2

    listener = AioListener((BIND_HOST, port), "py-peer-server")
    listener.handler.register_interface(INTERFACE, ProtoEchoService)
    listener.run_threading()  # event loop in a daemon thread; it binds in there

    deadline = time.monotonic() + 10
    while listener._server is None or not listener._server.sockets:
        if time.monotonic() > deadline:
            sys.stderr.write("anthunder listener did not start within 10 s\n")
            return 1
        time.sleep(0.02)
    real_port = listener._server.sockets[0].getsockname()[1]

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    peerlib.watch_stdin(stop.set, log)

    log.info("listening on %s:%d", BIND_HOST, real_port)
    peerlib.contract_line("READY %d" % real_port)

    while not stop.wait(0.5):
        pass
    log.info("stopping")
    try:
        listener.shutdown()
    except Exception as e:  # best effort: the process exits right after
        log.warning("shutdown: %s", e)
    return 0


if __name__ == "__main__":
    rc = main()
    sys.stderr.flush()
    os._exit(rc)  # anthunder's loop / worker threads would otherwise keep the process alive
