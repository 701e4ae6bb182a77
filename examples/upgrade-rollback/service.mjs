#!/usr/bin/env node
// The demo service "checkout" and its deploy API, in one plain Node process (no dependencies).
//
//   GET  /                 the service: v1 always answers 200, v2 answers 40% of requests with 500
//   GET  /metrics          Prometheus text format: http_requests_total{code,version}
//   GET  /healthz          200 while the process runs
//   GET  /admin/v1/services/NS/NAME            the deployed revision and the history
//   POST /admin/v1/services/NS/NAME/deploy     {"version": "v2"}: a new revision
//   POST /admin/v1/services/NS/NAME/rollback   {"requestId": "…"}: back to the previous revision
//
// The admin routes stand in for what a playbook calls in real life (kubectl, a deploy API), and
// deployctl.mjs is their command line. A rollback that carries a requestId is done once per id,
// so a retried step never rolls back twice. It listens on a loopback address only.
//
// usage: node service.mjs [--listen 127.0.0.1:0] [--namespace shop] [--service checkout] [--version v1]
import { createServer } from 'node:http';
import { URL } from 'node:url';
import { parseArgs } from 'node:util';

/** The versions this service can run: the share of requests each answers with a 5xx. */
const VERSIONS = {
  v1: { errorShare: 0, failure: null },
  v2: { errorShare: 0.4, failure: 'NullPointerException in the new pricing code' },
};
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const MAX_BODY_BYTES = 4096;
const REMEMBERED_REQUESTS = 100;

const { values: opts } = parseArgs({
  options: {
    listen: { type: 'string', default: '127.0.0.1:0' },
    namespace: { type: 'string', default: 'shop' },
    service: { type: 'string', default: 'checkout' },
    version: { type: 'string', default: 'v1' },
  },
});
const listen = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\]):(\d{1,5})$/.exec(opts.listen);
if (!listen) fail(`--listen must be a loopback address such as 127.0.0.1:8080, not ${JSON.stringify(opts.listen)}`);
for (const name of ['namespace', 'service']) {
  if (!DNS_LABEL.test(opts[name])) fail(`--${name} must be a DNS label (lower case letters, digits and "-"), not ${JSON.stringify(opts[name])}`);
}
if (!Object.hasOwn(VERSIONS, opts.version)) fail(`--version must be one of ${Object.keys(VERSIONS).join(', ')}`);

const self = `${opts.namespace}/${opts.service}`;
/** Every revision ever deployed, oldest first; the last one is running. */
const history = [];
/** http_requests_total, by "code,version". */
const requests = new Map();
/** Per-version request counters, to fail an exact share of requests. */
const served = new Map();
/** requestId → the answer of the rollback it asked for. */
const rollbacks = new Map();

deploy(opts.version, 'initial deploy');

const server = createServer((req, res) => {
  handle(req, res).catch((err) => answer(res, 500, { error: { code: 'internal', message: err instanceof Error ? err.message : String(err) } }));
});
server.keepAliveTimeout = 5_000;
server.listen(Number(listen[2]), listen[1].replace(/^\[|\]$/g, ''), () => {
  const { address, port } = server.address();
  const host = address.includes(':') ? `[${address}]` : address;
  process.stdout.write(`service: listening on http://${host}:${port} (${self}, ${current().version}, revision ${current().revision})\n`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}

async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://service.invalid');
  if (url.pathname === '/metrics' && req.method === 'GET') return metrics(res);
  if (url.pathname === '/healthz') return answer(res, 200, { ok: true });
  const admin = /^\/admin\/v1\/services\/([^/]+)\/([^/]+)(?:\/(deploy|rollback))?$/.exec(url.pathname);
  if (admin) return adminRoute(req, res, `${admin[1]}/${admin[2]}`, admin[3] ?? null);
  if (url.pathname.startsWith('/admin/')) return answer(res, 404, { error: { code: 'not_found', message: `no route for ${req.method} ${url.pathname}` } });
  return serve(res);
}

/** The service itself: the running version decides whether this request fails. */
function serve(res) {
  const { version } = current();
  const spec = VERSIONS[version];
  const n = (served.get(version) ?? 0) + 1;
  served.set(version, n);
  // Exactly errorShare of the requests fail, spread evenly: request n fails when the running
  // count of failures it is owed goes up by one.
  const fails = Math.floor(n * spec.errorShare) > Math.floor((n - 1) * spec.errorShare);
  const code = fails ? 500 : 200;
  count(code, version);
  if (fails) return answer(res, code, { error: `${opts.service} ${version}: ${spec.failure}` });
  return answer(res, code, { ok: true, service: opts.service, version });
}

async function adminRoute(req, res, target, action) {
  if (target !== self) return answer(res, 404, { error: { code: 'not_found', message: `no service ${target} here: this deploy API serves ${self}` } });
  if (action === null) {
    if (req.method !== 'GET') return answer(res, 405, { error: { code: 'method_not_allowed', message: 'use GET' } });
    return answer(res, 200, status());
  }
  if (req.method !== 'POST') return answer(res, 405, { error: { code: 'method_not_allowed', message: 'use POST' } });
  const body = await readJson(req);
  if (body === undefined)
    return answer(res, 400, { error: { code: 'bad_request', message: `the body must be a JSON object of at most ${MAX_BODY_BYTES} bytes` } });
  if (action === 'deploy') {
    if (typeof body.version !== 'string' || !Object.hasOwn(VERSIONS, body.version)) {
      return answer(res, 400, { error: { code: 'bad_request', message: `version must be one of ${Object.keys(VERSIONS).join(', ')}` } });
    }
    const from = current();
    const to = deploy(body.version, typeof body.cause === 'string' ? body.cause.slice(0, 200) : 'deploy');
    return answer(res, 200, { from, to });
  }
  const requestId = typeof body.requestId === 'string' && body.requestId !== '' ? body.requestId.slice(0, 200) : null;
  const replay = requestId === null ? undefined : rollbacks.get(requestId);
  if (replay) return answer(res, 200, { ...replay, replayed: true });
  const from = current();
  const previous = history[history.length - 2];
  if (previous === undefined) return answer(res, 409, { error: { code: 'conflict', message: `${self} has no previous revision to roll back to` } });
  const to = deploy(previous.version, `rollback of revision ${from.revision}${requestId ? ` (request ${requestId})` : ''}`);
  const result = { from, to };
  if (requestId !== null) {
    rollbacks.set(requestId, result);
    if (rollbacks.size > REMEMBERED_REQUESTS) rollbacks.delete(rollbacks.keys().next().value);
  }
  return answer(res, 200, result);
}

function deploy(version, cause) {
  const revision = { revision: history.length + 1, version, deployedAt: new Date().toISOString(), cause };
  history.push(revision);
  // Counters start at zero for each code a version can answer, so a rate sees their first increase.
  for (const code of [200, 500]) if (!requests.has(`${code},${version}`)) requests.set(`${code},${version}`, 0);
  return revision;
}

function current() {
  return history[history.length - 1];
}

function status() {
  const { revision, version } = current();
  return { namespace: opts.namespace, service: opts.service, revision, version, history };
}

function count(code, version) {
  const key = `${code},${version}`;
  requests.set(key, (requests.get(key) ?? 0) + 1);
}

function metrics(res) {
  const lines = ['# HELP http_requests_total Requests answered, by status code and by the version that answered.', '# TYPE http_requests_total counter'];
  for (const [key, value] of requests) {
    const [code, version] = key.split(',');
    lines.push(`http_requests_total{code="${code}",version="${version}"} ${value}`);
  }
  lines.push(
    '# HELP deploy_revision The revision running now.',
    '# TYPE deploy_revision gauge',
    `deploy_revision{version="${current().version}"} ${current().revision}`,
  );
  res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  res.end(`${lines.join('\n')}\n`);
}

/** The request's JSON object body, or undefined when it is not one (or too large). */
async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  try {
    const value = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function answer(res, code, body) {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}

function fail(message) {
  process.stderr.write(`service: ${message}\n`);
  process.exit(2);
}
