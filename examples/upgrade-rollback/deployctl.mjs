#!/usr/bin/env node
// deployctl: the command line of the demo's deploy API (service.mjs), what a playbook calls here
// the way it would call `kubectl rollout undo` in a cluster. The server comes from
// DEPLOYCTL_SERVER, as kubectl's comes from KUBECONFIG (remediator passes it to steps only
// because the demo's configuration lists it in runs.envAllow).
//
//   deployctl status   --namespace shop --service checkout
//   deployctl deploy   --namespace shop --service checkout --version v2
//   deployctl rollback --namespace shop --service checkout [--request-id ID]
//
// Exit 0 when done, 1 when the deploy API refused or could not be reached, 2 on a usage error.
/* global fetch, AbortSignal, URL -- Node's globals */
import { parseArgs } from 'node:util';

const USAGE = 'usage: deployctl status|deploy|rollback --namespace NS --service NAME [--version V] [--request-id ID]';
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const TIMEOUT_MS = 10_000;

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      namespace: { type: 'string' },
      service: { type: 'string' },
      version: { type: 'string' },
      'request-id': { type: 'string' },
    },
  });
} catch (err) {
  usage(err instanceof Error ? err.message : String(err));
}
const { values: opts, positionals } = parsed;
const command = positionals[0];
if (positionals.length !== 1 || !['status', 'deploy', 'rollback'].includes(command ?? '')) usage('name one command: status, deploy or rollback');
for (const name of ['namespace', 'service']) {
  if (opts[name] === undefined) usage(`--${name} is required`);
  if (!DNS_LABEL.test(opts[name])) usage(`--${name} must be a DNS label (lower case letters, digits and "-"), not ${JSON.stringify(opts[name])}`);
}
if (command === 'deploy' && opts.version === undefined) usage('deploy needs --version');

const server = process.env['DEPLOYCTL_SERVER'] ?? '';
if (!/^https?:\/\/[^/]+\/?$/.test(server)) {
  process.stderr.write(`deployctl: set DEPLOYCTL_SERVER to the deploy API's address, e.g. http://127.0.0.1:8080 (it is ${JSON.stringify(server)})\n`);
  process.exit(1);
}
const target = `${opts.namespace}/${opts.service}`;
const base = `${server.replace(/\/$/, '')}/admin/v1/services/${opts.namespace}/${opts.service}`;

if (command === 'status') {
  const s = await call('GET', base);
  process.stdout.write(`${target}: revision ${s.revision}, version ${s.version}\n`);
  for (const r of s.history) process.stdout.write(`  revision ${r.revision}  ${r.version}  ${r.deployedAt}  ${r.cause}\n`);
} else if (command === 'deploy') {
  const { from, to } = await call('POST', `${base}/deploy`, { version: opts.version, cause: 'deployctl deploy' });
  process.stdout.write(`deployed ${target} ${to.version} (revision ${to.revision}; was ${from.version}, revision ${from.revision})\n`);
} else {
  const requestId = opts['request-id'];
  const r = await call('POST', `${base}/rollback`, requestId === undefined ? {} : { requestId });
  const again = r.replayed ? ` (done before for request ${requestId}; not rolled back twice)` : '';
  process.stdout.write(`rolled back ${target} from ${r.from.version} (revision ${r.from.revision}) to ${r.to.version} (revision ${r.to.revision})${again}\n`);
}

async function call(method, url, body) {
  let res;
  try {
    res = await fetch(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      redirect: 'error',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
    process.stderr.write(`deployctl: cannot reach the deploy API at ${server}: ${cause}\n`);
    process.exit(1);
  }
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    process.stderr.write(`deployctl: ${method} ${new URL(url).pathname} answered ${res.status}: ${json?.error?.message ?? text.trim()}\n`);
    process.exit(1);
  }
  return json;
}

function usage(message) {
  process.stderr.write(`deployctl: ${message}\n${USAGE}\n`);
  process.exit(2);
}
