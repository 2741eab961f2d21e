'use strict';
// Pieces shared by server.js and client.js: logging to stderr, protocol/proto setup,
// the Hessian dialect switch and the "parent went away" watchdog on stdin.
// Require it before anything else: it takes over process.stdout first.

// stdout carries only the machine-readable contract (READY line / JSON lines). Some dependencies log
// through console.log (e.g. cluster-client's default logger used by the ZooKeeper registry), so
// every other write to process.stdout is diverted to stderr; contractLine() writes the real stdout.
const realStdoutWrite = process.stdout.write.bind(process.stdout);
process.stdout.write = (...args) => process.stderr.write(...args);

function contractLine(text) {
  realStdoutWrite(text + '\n');
}

const fs = require('fs');
const path = require('path');
const util = require('util');
const antpb = require('antpb');
const bolt = require('sofa-bolt-node');

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

// PEER_LOG=debug|info|warn|error|silent (default warn). Everything goes to stderr: stdout is reserved
// for the machine-readable contract (READY line / JSON lines).
function makeLogger(tag) {
  const wanted = LEVELS[process.env.PEER_LOG || 'warn'];
  const threshold = wanted === undefined ? LEVELS.warn : wanted;
  const render = args => util.format(...args.map(a => (a instanceof Error ? `${a.name}: ${a.message}` : a)));
  const logger = {};
  for (const level of [ 'debug', 'info', 'warn', 'error' ]) {
    logger[level] = (...args) => {
      if (LEVELS[level] >= threshold) process.stderr.write(`[${tag} ${level}] ${render(args)}\n`);
    };
  }
  return logger;
}

// HESSIAN_VERSION unset or '3.0': sofa-bolt-node's default, the draft Hessian 2.0 codes spoken by Java
// sofa-hessian 3.x. '4.0': the final Hessian 2.0 grammar (sofa-hessian 4.x). Both ends must agree.
function hessianVersion() {
  const v = process.env.HESSIAN_VERSION || '3.0';
  if (v !== '3.0' && v !== '4.0') {
    throw new Error(`HESSIAN_VERSION must be 3.0 or 4.0, got ${JSON.stringify(v)}`);
  }
  return v;
}

// Loads ../proto/*.proto into one protobufjs root and configures sofa-bolt-node globally.
function setupProtocol() {
  const proto = antpb.loadAll(path.join(__dirname, '..', 'proto'));
  if (!proto) throw new Error('no .proto files found in ' + path.join(__dirname, '..', 'proto'));
  const hessian = hessianVersion();
  bolt.setOptions({ proto, hessianVersion: hessian });
  return { protocol: bolt, proto, hessian };
}

// True when fd 0 is /dev/null: there is no parent holding a pipe open, so EOF means nothing.
function stdinIsDevNull() {
  try {
    const st = fs.fstatSync(0);
    if (!st.isCharacterDevice()) return false;
    const nul = fs.statSync('/dev/null');
    return st.rdev === nul.rdev;
  } catch (e) {
    return false;
  }
}

// Calls onGone() once when stdin reaches EOF or errors (the spawning test process died or closed
// its end of the pipe). Disabled when stdin is /dev/null or PEER_STDIN_WATCH=0.
function watchStdin(onGone, logger) {
  if (process.env.PEER_STDIN_WATCH === '0') return false;
  if (stdinIsDevNull()) {
    logger.info('stdin is /dev/null: not watching it (stop me with SIGTERM)');
    return false;
  }
  let fired = false;
  const fire = why => {
    if (fired) return;
    fired = true;
    logger.info('stdin %s: shutting down', why);
    onGone();
  };
  process.stdin.on('data', () => {}); // input is ignored, only EOF matters
  process.stdin.on('end', () => fire('closed'));
  process.stdin.on('error', () => fire('errored'));
  process.stdin.resume();
  return true;
}

// Picks a free loopback port (used for cluster-client's leader port when none is configured).
function freeLoopbackPort() {
  const net = require('net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// sofa-rpc-node's ZookeeperRegistry (via zookeeper-cluster-client / cluster-client) elects a leader
// through a TCP port on the local machine, default 7777. Use NODE_CLUSTER_CLIENT_PORT, or a free port.
async function makeZkRegistry(address, logger) {
  if (!process.env.NODE_CLUSTER_CLIENT_PORT) {
    process.env.NODE_CLUSTER_CLIENT_PORT = String(await freeLoopbackPort());
  }
  const { ZookeeperRegistry } = require('sofa-rpc-node').registry;
  logger.info('zookeeper registry %s (cluster-client port %s)', address, process.env.NODE_CLUSTER_CLIENT_PORT);
  const registry = new ZookeeperRegistry({ logger, address });
  await registry.ready();
  return registry;
}

module.exports = { contractLine, makeLogger, setupProtocol, hessianVersion, watchStdin, makeZkRegistry, freeLoopbackPort };
