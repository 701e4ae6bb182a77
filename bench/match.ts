// Matching cost with thousands of playbooks: the alertname index keeps it flat.
import { performance } from 'node:perf_hooks';
import type { Alert } from '../src/domain/alert.js';
import { PlaybookIndex } from '../src/match/playbook-index.js';
import { parsePlaybook } from '../src/playbook/loader.js';

const PLAYBOOKS = 5000;
const playbooks = Array.from({ length: PLAYBOOKS }, (_, i) => {
  const text = `name: pb-${i}
match:
  alertname: Alert${i % 1000}
  matchers: ['severity=~"critical|page"', 'namespace!~"kube-.*"', 'team="t${i % 5}"']
params:
  ns: { from: labels.namespace, pattern: '[a-z0-9-]{1,63}' }
steps:
  - run: [kubectl, rollout, undo, -n, '{{ params.ns }}']
`;
  const r = parsePlaybook(text, `pb-${i}.yaml`);
  if (!r.playbook) throw new Error(JSON.stringify(r.errors));
  return r.playbook;
});
// A few label-only playbooks, which every alert is checked against.
const index = new PlaybookIndex(playbooks);

const alert = (i: number): Alert => ({
  status: 'firing',
  labels: { alertname: `Alert${i % 1000}`, severity: 'critical', namespace: 'shop', team: `t${i % 5}` },
  annotations: {},
  startsAt: '2026-11-28T21:12:23.687Z',
  endsAt: null,
  generatorURL: '',
  fingerprint: i.toString(16),
});

const N = 200_000;
let matched = 0;
const start = performance.now();
for (let i = 0; i < N; i++) matched += index.match(alert(i)).length;
const ms = performance.now() - start;
console.log(`match: ${PLAYBOOKS} playbooks, ${N} alerts in ${ms.toFixed(0)} ms = ${((N / ms) * 1000).toFixed(0)} alerts/s (${matched} matches)`);
