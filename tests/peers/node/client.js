'use strict';
// sofa-rpc-node consumer driven by scenario names; see ../README.md for the contract.
//
//   node client.js HOST PORT [scenario ...]
//
// stdout: one JSON object per scenario, {"scenario", "ok", "result"} or {"scenario", "ok", "error"}.
// exit: 0 when every scenario passed, 1 when one failed, 2 on a usage / setup error, 3 when the
// overall deadline (PEER_DEADLINE_MS, default 60000) expired.
//
// env: HESSIAN_VERSION=3.0|4.0, ZK_ADDRESS=127.0.0.1:<port> (discover providers instead of HOST:PORT),
//      SEPARATE=1 (new RpcClient, hence new TCP connection, per scenario),
//      EXPECT_PREFIX (proto: message must equal EXPECT_PREFIX + "hello peer, you are in B"; when unset
//      it must end with that text), PEER_WIRE=1 (add the raw bytes seen on the socket during each
//      scenario to its JSON line), PEER_LOG=debug|info|warn|error|silent.

const assert = require('assert');
const { contractLine, makeLogger, setupProtocol, makeZkRegistry } = require('./common');

const CALL_TIMEOUT_MS = 3000;
const SCENARIO_BOUND_MS = 10000;
const ECHO = 'com.example.EchoService';
const PROTO_ECHO = 'com.example.ProtoEchoService';
const VERSION = '1.0';

const log = makeLogger('node-client');

// Java-typed argument helpers: the $class (or $abstractClass) ends up in SofaRequest.methodArgSigs,
// and the value is written the way a Java consumer would write it.
const J = {
  string: s => ({ $class: 'java.lang.String', $: s }),
  int: n => ({ $class: 'int', $: n }),
  long: n => ({ $class: 'long', $: n }),
  double: n => ({ $class: 'double', $: n }),
  bool: b => ({ $class: 'boolean', $: b }),
  bytes: buf => ({ $class: 'byte', isArray: true, $: buf }), // signature "[B", written as hessian binary
  // declared java.util.List / java.util.Map, concrete ArrayList / HashMap (written untyped, like Java does)
  list: arr => ({ $class: 'java.util.ArrayList', $abstractClass: 'java.util.List', $: arr }),
  map: obj => ({ $class: 'java.util.HashMap', $abstractClass: 'java.util.Map', $: obj }),
  user: (name, age) => ({ $class: 'com.example.User', $: { name, age } }),
};

// Field layout used when writing com.example.User arguments (Java field order: name, age).
const CLASS_MAP = {
  'com.example.User': {
    name: { type: 'java.lang.String' },
    age: { type: 'int' },
  },
};

const NON_BMP = 'héllo 😀 𝄞 中文';
const BIG_LONG = 9007199254740991; // 2^53 - 1: beyond 32 bits, still exact in a JS number
const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

function check(cond, what, got) {
  if (!cond) throw new Error(`${what}: got ${JSON.stringify(got)}`);
}

function errorInfo(err) {
  return { name: err && err.name, message: err && err.message };
}

// Runs fn(), which must reject; returns the error's description. `pattern` (optional) must match the
// message. A resolved call is a failure.
async function expectError(fn, pattern) {
  let value;
  try {
    value = await fn();
  } catch (err) {
    const msg = String(err && err.message);
    if (pattern && !pattern.test(msg)) {
      throw new Error(`error message ${JSON.stringify(msg)} does not match ${pattern}`);
    }
    return { expectedError: errorInfo(err) };
  }
  throw new Error(`expected an error, got result ${JSON.stringify(value)}`);
}

function deepEqual(a, b) {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch (e) {
    return false;
  }
}

class Session {
  constructor(libs, target, wire) {
    this.libs = libs;
    this.target = target; // { serverHost } or { registry }
    this.wire = wire; // { rx: [], tx: [] } collector shared with the tapped connections
    const { RpcClient, RpcConnection } = libs.rpc.client;
    const tap = this.wire;
    class TappedConnection extends RpcConnection {
      _connect() {
        super._connect();
        const sock = this._socket;
        sock.on('data', chunk => tap.rx.push(Buffer.from(chunk)));
        const write = sock.write;
        sock.write = function(chunk, ...rest) {
          if (Buffer.isBuffer(chunk)) tap.tx.push(Buffer.from(chunk));
          return write.call(this, chunk, ...rest);
        };
      }
    }
    this.client = new RpcClient({
      logger: log,
      protocol: libs.protocol,
      connectionClass: TappedConnection,
      connectionOpts: {
        protocol: libs.protocol,
        proto: libs.proto,
        classMap: CLASS_MAP,
        noDelay: true,
        connectTimeout: CALL_TIMEOUT_MS,
      },
    });
    this.client.on('error', err => log.warn('client error: %s', err && err.message));
  }

  async consumer(interfaceName) {
    const c = this.client.createConsumer({ interfaceName, version: VERSION, responseTimeout: CALL_TIMEOUT_MS, ...this.target });
    await c.ready();
    return c;
  }

  async call(interfaceName, method, args, extra = {}) {
    const c = await this.consumer(interfaceName);
    return c.invoke(method, args, { responseTimeout: CALL_TIMEOUT_MS, ...extra });
  }

  hessian(method, ...args) {
    return this.call(ECHO, method, args);
  }

  protobuf(method, msg) {
    return this.call(PROTO_ECHO, method, [ msg ], { codecType: 'protobuf' });
  }

  // The RpcConnection the EchoService consumer would use (created and connected if needed).
  async connection() {
    const c = await this.consumer(ECHO);
    const conn = await c.getConnection({ meta: {} });
    if (!conn) throw new Error('no provider address for ' + ECHO);
    await conn.ready();
    return conn;
  }

  close() {
    return this.client.close();
  }
}

const SCENARIOS = {
  async echo(s) {
    const r = await s.hessian('echo', J.string('hello'));
    check(r === 'hello', 'echo', r);
    return r;
  },

  async echoNonBmp(s) {
    const r = await s.hessian('echo', J.string(NON_BMP));
    check(r === NON_BMP, 'echo (non-BMP)', r);
    return r;
  },

  async echoLong(s) {
    const r = await s.hessian('echoLong', J.long(BIG_LONG));
    check(r === BIG_LONG, 'echoLong', r);
    return r;
  },

  async echoDouble(s) {
    const r = await s.hessian('echoDouble', J.double(3.25));
    check(r === 3.25, 'echoDouble', r);
    return r;
  },

  async echoBool(s) {
    const r = await s.hessian('echoBool', J.bool(true));
    check(r === true, 'echoBool', r);
    return r;
  },

  async echoBytes(s) {
    const r = await s.hessian('echoBytes', J.bytes(ALL_BYTES));
    check(Buffer.isBuffer(r) && r.equals(ALL_BYTES), 'echoBytes', r);
    return { length: r.length, hex: r.toString('hex') };
  },

  async echoList(s) {
    const want = [ 'a', 1, true ];
    const r = await s.hessian('echoList', J.list(want));
    check(deepEqual(r, want), 'echoList', r);
    return r;
  },

  async echoMap(s) {
    const want = { k: 'v', n: 2 };
    const r = await s.hessian('echoMap', J.map(want));
    const got = r instanceof Map ? Object.fromEntries(r) : r;
    check(deepEqual({ ...got }, want), 'echoMap', got);
    return got;
  },

  async echoUser(s) {
    const mark = s.wire.rx.length;
    const r = await s.hessian('echoUser', J.user('ann', 42));
    check(r && r.name === 'ann' && r.age === 42, 'echoUser', r);
    // The value must travel as an object of class com.example.User, not as a map: the class name
    // appears in the response bytes (class definition) unless an earlier response on this connection
    // already defined it, which cannot happen here because class definitions are per message.
    const rx = Buffer.concat(s.wire.rx.slice(mark));
    check(rx.includes(Buffer.from('com.example.User')), 'echoUser response carries class com.example.User', rx.toString('hex'));
    return { name: r.name, age: r.age, class: 'com.example.User' };
  },

  async add(s) {
    const r = await s.hessian('add', J.int(1), J.int(2));
    check(r === 3, 'add', r);
    return r;
  },

  async fail(s) {
    return expectError(() => s.hessian('fail', J.string('x')), /boom: x/);
  },

  // Not in the default list: the service returns (does not throw) an exception object.
  async failReturn(s) {
    return expectError(() => s.hessian('failReturn', J.string('y')), /app error: y/);
  },

  // Not in the default list: sofa-rpc-rs's built-in metadata service, called like any service.
  async metadata(s) {
    const META = 'sofa.rpc.rs.MetadataService';
    const plain = v => (v instanceof Map ? Object.fromEntries(v) : v);
    const names = await s.call(META, 'list', []);
    check(Array.isArray(names) && names.includes('com.example.EchoService:1.0'), 'metadata list', names);
    const desc = plain(await s.call(META, 'describe', [ J.string('com.example.EchoService:1.0') ]));
    const methods = (desc.methods || []).map(plain);
    const add = methods.find(m => m.name === 'add');
    check(add && deepEqual(add.parameterTypes, [ 'int', 'int' ]) && add.returnType === 'int', 'metadata describe add', methods);
    check(desc.interface === 'com.example.EchoService' && desc.version === '1.0', 'metadata describe id', desc);
    return { names, interface: desc.interface, add };
  },

  async notfound(s) {
    return expectError(() => s.call('com.example.Nope', 'echo', [ J.string('z') ]));
  },

  async nomethod(s) {
    return expectError(() => s.hessian('nope', J.string('z')));
  },

  async proto(s) {
    const r = await s.protobuf('echoObj', { name: 'peer', group: 'B' });
    const o = r && typeof r.toJSON === 'function' ? r.toJSON() : r;
    const tail = 'hello peer, you are in B';
    const prefix = process.env.EXPECT_PREFIX;
    const good = o && typeof o.message === 'string' &&
      (prefix === undefined ? o.message.endsWith(tail) : o.message === prefix + tail);
    check(o && o.code === 200 && good, 'echoObj', o);
    return { code: o.code, message: o.message };
  },

  async protofail(s) {
    return expectError(() => s.protobuf('failObj', { name: 'bad', group: 'A' }));
  },

  async heartbeat(s) {
    const conn = await s.connection();
    const id = s.libs.nextId();
    const ack = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        conn._decoder.removeListener('heartbeat_ack', onAck);
        reject(new Error(`no heartbeat ack for id ${id} within ${CALL_TIMEOUT_MS} ms`));
      }, CALL_TIMEOUT_MS);
      function onAck(a) {
        if (a.packetId !== id) return;
        clearTimeout(timer);
        conn._decoder.removeListener('heartbeat_ack', onAck);
        resolve(a);
      }
      conn._decoder.on('heartbeat_ack', onAck);
    });
    // RpcConnection#heartbeat() only sends after 30 s of idleness; write the command directly.
    conn._encoder.writeHeartbeat(id, { timeout: CALL_TIMEOUT_MS, clientUrl: conn._clientUrl });
    const a = await ack;
    return { requestId: id, ackRequestId: a.packetId, ackOptions: a.options };
  },

  // Fresh connection whose very first frame is a bolt v2 request (ver1 = 2, switch = CRC on).
  async v2(s) {
    const own = new Session(s.libs, s.target, s.wire);
    try {
      const conn = await own.connection(); // no frame has been written on it yet
      conn._encoder.protocolType = 'bolt2';
      conn._encoder.boltVersion = 2;
      conn._encoder.crcEnable = true;
      const mark = own.wire.rx.length;
      const r = await own.hessian('echo', J.string('hello-v2'));
      check(r === 'hello-v2', 'echo over bolt v2', r);
      const rx = Buffer.concat(own.wire.rx.slice(mark));
      return { value: r, responseProtocol: rx.length ? rx[0] : null, responseVer1: rx.length > 1 ? rx[1] : null };
    } finally {
      await closeQuietly(own);
    }
  },
};

const DEFAULT_SCENARIOS = [
  'echo', 'echoNonBmp', 'echoLong', 'echoDouble', 'echoBool', 'echoBytes', 'echoList', 'echoMap', 'echoUser',
  'add', 'fail', 'notfound', 'nomethod', 'proto', 'protofail', 'heartbeat', 'v2',
];

function withBound(promise, ms, what) {
  let timer;
  const bound = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([ promise, bound ]).finally(() => clearTimeout(timer));
}

function closeQuietly(session) {
  return withBound(Promise.resolve(session.close()), 3000, 'client close')
    .catch(err => log.warn('close: %s', err && err.message));
}

function emit(line) {
  contractLine(JSON.stringify(line));
}

async function main() {
  const [ host, port, ...names ] = process.argv.slice(2);
  const useZk = !!process.env.ZK_ADDRESS;
  if (!useZk && (!host || !port)) {
    process.stderr.write('usage: client.js HOST PORT [scenario ...]\n');
    process.exit(2);
  }
  const scenarios = names.length ? names : DEFAULT_SCENARIOS;
  const { protocol, proto } = setupProtocol();

  let registry = null;
  if (useZk) registry = await makeZkRegistry(process.env.ZK_ADDRESS, log); // sets NODE_CLUSTER_CLIENT_PORT first
  const rpc = require('sofa-rpc-node');
  const { nextId } = require('sofa-rpc-node/lib/client/utils');
  const libs = { rpc, protocol, proto, nextId };
  const target = registry ? { registry } : { serverHost: `${host}:${port}` };
  const showWire = process.env.PEER_WIRE === '1';
  const wire = { rx: [], tx: [] };

  let session = null;
  let allOk = true;
  for (const name of scenarios) {
    const run = Object.prototype.hasOwnProperty.call(SCENARIOS, name) ? SCENARIOS[name] : null;
    if (!run) {
      allOk = false;
      emit({ scenario: name, ok: false, error: 'unknown scenario (known: ' + Object.keys(SCENARIOS).join(', ') + ')' });
      continue;
    }
    if (process.env.SEPARATE === '1' && session) {
      await closeQuietly(session);
      session = null;
    }
    if (!session) session = new Session(libs, target, wire);
    wire.rx.length = 0;
    wire.tx.length = 0;
    const line = { scenario: name };
    try {
      const result = await withBound(run(session), SCENARIO_BOUND_MS, `scenario ${name}`);
      line.ok = true;
      line.result = result;
    } catch (err) {
      allOk = false;
      line.ok = false;
      line.error = String(err && err.message || err);
    }
    if (showWire) line.wire = { tx: Buffer.concat(wire.tx).toString('hex'), rx: Buffer.concat(wire.rx).toString('hex') };
    emit(line);
  }
  if (session) await closeQuietly(session);
  if (registry) await withBound(Promise.resolve(registry.close()), 3000, 'registry close').catch(() => {});
  return allOk;
}

const deadline = Number(process.env.PEER_DEADLINE_MS || 60000);
setTimeout(() => {
  process.stderr.write(`node client: overall deadline of ${deadline} ms expired\n`);
  process.exit(3);
}, deadline).unref();

main().then(ok => process.exit(ok ? 0 : 1), err => {
  process.stderr.write('node client setup failed: ' + (err && err.stack || err) + '\n');
  process.exit(2);
});
