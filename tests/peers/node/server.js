'use strict';
// sofa-rpc-node provider for the interop tests; see ../README.md for the contract.
//
//   PORT=<port> node server.js          (PORT 0 or unset = ephemeral)
//
// stdout: exactly one line "READY <port>" once the listener accepts connections; nothing else.
// stderr: logs (PEER_LOG=debug|info|warn|error|silent, default warn).
// Stops on SIGTERM / SIGINT, and when stdin reaches EOF (unless stdin is /dev/null or PEER_STDIN_WATCH=0).
// env: HESSIAN_VERSION=3.0|4.0, ZK_ADDRESS=127.0.0.1:<port> (also publish to ZooKeeper),
//      NODE_CLUSTER_CLIENT_PORT (leader port of cluster-client, default: a free port), APP_NAME.

const net = require('net');
const { contractLine, makeLogger, setupProtocol, watchStdin, makeZkRegistry } = require('./common');

const BIND_HOST = '127.0.0.1';
const log = makeLogger('node-server');

// How return values must be typed so that the bytes match what a Java provider sends.
// sofa-rpc-node wraps a plain JS return value into { $class: returnType, $: value }.
const ECHO_API_META = {
  methods: [
    { name: 'echo', returnType: 'java.lang.String' },
    { name: 'add', returnType: 'int' },
    { name: 'echoLong', returnType: 'long' },
    { name: 'echoDouble', returnType: 'double' },
    { name: 'echoBool', returnType: 'boolean' },
    // A Java method declared to return java.util.List hands back an ArrayList, which Java's Hessian
    // writes as an untyped list; 'java.util.ArrayList' does the same here.
    { name: 'echoList', returnType: 'java.util.ArrayList' },
    { name: 'echoUser', returnType: 'com.example.User' },
    // echoMap has no entry on purpose: a plain JS object is written as an untyped map (what Java does
    // for a HashMap) in both dialects, whereas returnType 'java.util.HashMap' makes sofa-hessian-node
    // 2.2.1's 4.0 encoder emit a bogus type string "undefined".
    // echoBytes returns an explicitly typed byte[] (see below); fail/failReturn produce exceptions.
  ],
  classMaps: {
    'com.example.User': {
      name: { type: 'java.lang.String' },
      age: { type: 'int' },
    },
  },
};

function serviceError(message) {
  const err = new Error(message);
  err.ignoreLog = true; // expected failure, keep stderr quiet
  return err;
}

const echoService = {
  async echo(s) { return s; },
  async add(a, b) { return a + b; },
  async echoLong(n) { return n; },
  async echoDouble(d) { return d; },
  async echoBool(b) { return b; },
  async echoBytes(buf) { return { $class: 'byte', isArray: true, $: buf == null ? null : Buffer.from(buf) }; },
  async echoList(list) { return list; },
  async echoMap(map) { return map; },
  async echoUser(user) {
    if (user == null) return null;
    return { name: user.name, age: user.age };
  },
  async fail(s) { throw serviceError('boom: ' + s); },
  async failReturn(s) { return new Error('app error: ' + s); },
};

const protoEchoService = {
  async echoObj(req) {
    const o = req.toObject({ enums: String, defaults: true });
    return { code: 200, message: `hello ${o.name}, you are in ${o.group}` };
  },
  async failObj(req) {
    const o = req.toObject({ enums: String, defaults: true });
    throw serviceError('proto boom: ' + o.name);
  },
};

async function main() {
  const port = Number(process.env.PORT || 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('bad PORT ' + process.env.PORT);
  const { protocol, proto, hessian } = setupProtocol();

  let registry = null;
  if (process.env.ZK_ADDRESS) registry = await makeZkRegistry(process.env.ZK_ADDRESS, log); // before requiring sofa-rpc-node
  const { RpcServer } = require('sofa-rpc-node').server;

  // RpcServer#_startServer listens on every interface; this variant binds the loopback address only.
  class LoopbackServer extends RpcServer {
    _startServer(wantPort) {
      const server = net.createServer();
      server.once('error', err => this.emit('error', err));
      server.on('connection', socket => this._handleSocket(socket));
      server.listen({ port: wantPort, host: BIND_HOST, exclusive: true }, () => {
        if (wantPort === this.publishPort && wantPort === 0) this.publishPort = server.address().port;
      });
      return server;
    }
  }

  const server = new LoopbackServer({
    logger: log,
    registry,
    protocol,
    proto,
    appName: process.env.APP_NAME || 'node-peer',
    port,
    publishAddress: BIND_HOST,
    killTimeout: 3000,
  });
  server.addService({ interfaceName: 'com.example.EchoService', version: '1.0', apiMeta: ECHO_API_META }, echoService);
  server.addService({ interfaceName: 'com.example.ProtoEchoService', version: '1.0' }, protoEchoService);
  server.on('error', err => log.warn('server error: %s', err && err.message));

  let stopping = false;
  const stop = async why => {
    if (stopping) return;
    stopping = true;
    log.info('stopping (%s)', why);
    const force = setTimeout(() => process.exit(0), 3000);
    force.unref();
    try {
      await server.close();
      if (registry) await registry.close();
    } catch (err) {
      log.warn('error while stopping: %s', err && err.message);
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  watchStdin(() => stop('stdin EOF'), log);

  await server.start();
  const realPort = server._servers[0].address().port;
  if (registry) {
    await server.publish();
    log.info('published to %s as %s', process.env.ZK_ADDRESS, server.url);
  }
  log.info('listening on %s:%d (hessian %s)', BIND_HOST, realPort, hessian);
  contractLine(`READY ${realPort}`);
}

main().catch(err => {
  process.stderr.write('node server failed: ' + (err && err.stack || err) + '\n');
  process.exit(1);
});
