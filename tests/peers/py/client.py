"""anthunder (sofa-bolt-python) consumer driven by scenario names; see ../README.md for the contract.

    python client.py HOST PORT [scenario ...]

stdout: one JSON object per scenario: {"scenario", "ok", "result"} or {"scenario", "ok", "error"}.
exit: 0 when every scenario passed, 1 when one failed, 2 on a usage error, 3 when the overall
deadline (PEER_DEADLINE_MS, default 60000) expired.

Scenarios (default: proto protofail heartbeat sync), all against com.example.ProtoEchoService:1.0:
    proto      AioClient.invoke_sync echoObj(EchoRequest{name: "anthunder", group: B})
    protofail  blocking Client.invoke_sync failObj(...) must raise (the server answered non-SUCCESS)
    heartbeat  anthunder's own HeartbeatRequest written on a fresh connection; the reply is decoded
               with anthunder's BoltResponse and must be a SUCCESS heartbeat ack with the same id
    sync       blocking Client.invoke_sync echoObj(...)
env: EXPECT_PREFIX: when set, the echoObj message must equal EXPECT_PREFIX + "hello anthunder, you are
     in B" (e.g. "py:" for the anthunder server); when unset it must end with that text.
"""
import json
import os
import socket
import sys

import peerlib

log = peerlib.setup_logging("py-client")

from anthunder import AioClient, Client, SERVICE_MAP  # noqa: E402  (after peerlib on purpose)
from anthunder.command.heartbeat import HeartbeatRequest  # noqa: E402
from anthunder.exceptions import ServerError  # noqa: E402
from anthunder.protocol import BoltResponse  # noqa: E402
from anthunder.protocol.constants import CMDCODE, PTYPE, RESPSTATUS  # noqa: E402
from mytracer import SpanContext  # noqa: E402
from echo_pb2 import B, EchoRequest, EchoResponse  # noqa: E402

INTERFACE = "com.example.ProtoEchoService:1.0"
TIMEOUT_MS = 3000
EXPECTED_TAIL = "hello anthunder, you are in B"
DEFAULT_SCENARIOS = ["proto", "protofail", "heartbeat", "sync"]


class ScenarioFailed(Exception):
    pass


class Runner(object):
    def __init__(self, host, port):
        self.host = host
        self.port = port
        SERVICE_MAP[INTERFACE] = (host, port)  # anthunder's static address book (no mesh)
        self._aio = None
        self.prefix = os.environ.get("EXPECT_PREFIX")

    def aio(self):
        if self._aio is None:
            self._aio = AioClient("py-peer-client")
        return self._aio

    @staticmethod
    def spanctx():
        return SpanContext()

    @staticmethod
    def request_bytes(name):
        return EchoRequest(name=name, group=B).SerializeToString()

    def check_echo(self, body):
        resp = EchoResponse()
        resp.ParseFromString(body)
        if self.prefix is not None:
            good = resp.message == self.prefix + EXPECTED_TAIL
        else:
            good = resp.message.endswith(EXPECTED_TAIL)
        if resp.code != 200 or not good:
            raise ScenarioFailed("unexpected EchoResponse code=%d message=%r" % (resp.code, resp.message))
        return {"code": resp.code, "message": resp.message}

    # --- scenarios -------------------------------------------------------------------------------

    def proto(self):
        body = self.aio().invoke_sync(INTERFACE, "echoObj", self.request_bytes("anthunder"),
                                      spanctx=self.spanctx(), timeout_ms=TIMEOUT_MS)
        return self.check_echo(body)

    def sync(self):
        body = Client("py-peer-client").invoke_sync(INTERFACE, "echoObj", self.request_bytes("anthunder"),
                                                    spanctx=self.spanctx(), timeout_ms=TIMEOUT_MS)
        return self.check_echo(body)

    def protofail(self):
        # The blocking Client raises ServerError for any non-SUCCESS status. (AioClient is not used
        # here: its receive loop turns a non-SUCCESS response into a KeyError in the caller.)
        try:
            body = Client("py-peer-client").invoke_sync(INTERFACE, "failObj", self.request_bytes("bad"),
                                                        spanctx=self.spanctx(), timeout_ms=TIMEOUT_MS)
        except ServerError as e:
            return {"expectedError": str(e)}
        raise ScenarioFailed("expected an error response, got a SUCCESS with %d content bytes: %s"
                             % (len(body), body.hex()))

    def heartbeat(self):
        # anthunder 0.8.1's AioClient.invoke_heartbeat waits for the ack but never stores it, so it
        # raises KeyError even when the ack is fine. Use its command classes on a plain socket instead:
        # HeartbeatRequest encodes the request, BoltResponse decodes the reply.
        req = HeartbeatRequest.new_request()
        frame = req.to_stream()
        head_len = BoltResponse.bolt_header_size()
        with socket.create_connection((self.host, self.port), timeout=TIMEOUT_MS / 1000.0) as sock:
            sock.sendall(frame)
            raw = _recv_exactly(sock, head_len)
            head = BoltResponse.bolt_header_from_stream(raw)
            body = _recv_exactly(sock, head["class_len"] + head["header_len"] + head["content_len"])
        ack = BoltResponse.bolt_content_from_stream(body, head)
        problems = []
        if ack.ptype != PTYPE.RESPONSE:
            problems.append("type %r" % ack.ptype)
        if ack.cmdcode != CMDCODE.HEARTBEAT:
            problems.append("cmdcode %r" % ack.cmdcode)
        if ack.request_id != req.request_id:
            problems.append("request id %d != %d" % (ack.request_id, req.request_id))
        if ack.respstatus != RESPSTATUS.SUCCESS:
            problems.append("status %r" % ack.respstatus)
        if problems:
            raise ScenarioFailed("bad heartbeat ack (%s): %s" % (", ".join(problems), (raw + body).hex()))
        return {"requestId": req.request_id, "ackRequestId": ack.request_id, "ackCodec": int(ack.codec),
                "request": frame.hex(), "ack": (raw + body).hex()}


def _recv_exactly(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ScenarioFailed("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def main():
    if len(sys.argv) < 3:
        sys.stderr.write("usage: client.py HOST PORT [scenario ...]\n")
        return 2
    host = sys.argv[1]
    try:
        port = int(sys.argv[2])
    except ValueError:
        sys.stderr.write("bad port %r\n" % sys.argv[2])
        return 2
    names = sys.argv[3:] or DEFAULT_SCENARIOS
    runner = Runner(host, port)
    all_ok = True
    for name in names:
        line = {"scenario": name}
        if name not in DEFAULT_SCENARIOS:
            line.update(ok=False, error="unknown scenario (known: %s)" % ", ".join(DEFAULT_SCENARIOS))
        else:
            try:
                line.update(ok=True, result=getattr(runner, name)())
            except Exception as e:  # every failure becomes a JSON line
                line.update(ok=False, error="%s: %s" % (type(e).__name__, e))
        all_ok = all_ok and line["ok"]
        peerlib.contract_line(json.dumps(line))
    return 0 if all_ok else 1


if __name__ == "__main__":
    peerlib.start_deadline(int(os.environ.get("PEER_DEADLINE_MS", "60000")), "py client")
    rc = main()
    sys.stderr.flush()
    os._exit(rc)  # AioClient's event loop thread would otherwise keep running
