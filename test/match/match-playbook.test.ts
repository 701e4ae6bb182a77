import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Alert } from '../../src/domain/alert.js';
import { matchPlaybook, playbookMatches } from '../../src/match/match-playbook.js';
import { PlaybookIndex } from '../../src/match/playbook-index.js';
import { parsePlaybook } from '../../src/playbook/loader.js';

const playbook = (text: string) => {
  const r = parsePlaybook(text, 'p.yaml');
  if (!r.playbook) throw new Error(JSON.stringify(r.errors));
  return r.playbook;
};
const alert = (labels: Record<string, string>, status: 'firing' | 'resolved' = 'firing'): Alert => ({
  status,
  labels,
  annotations: {},
  startsAt: '2026-12-02T10:00:00Z',
  endsAt: null,
  generatorURL: '',
  fingerprint: 'f1',
});

test('playbookMatches (no reason built) agrees with matchPlaybook on alertname, status and matchers', () => {
  const p = playbook('name: p\nmatch:\n  alertname: [A, B]\n  matchers: [\'team="x"\', \'ns!~"kube-.*"\']\nsteps:\n  - notify: { text: hi }\n');
  const labelOnly = playbook('name: q\nmatch:\n  matchers: [\'team="x"\']\nsteps:\n  - notify: { text: hi }\n');
  const alerts = [
    alert({ alertname: 'A', team: 'x', ns: 'shop' }),
    alert({ alertname: 'B', team: 'x', ns: 'shop' }),
    alert({ alertname: 'C', team: 'x', ns: 'shop' }),
    alert({ alertname: 'A', team: 'y', ns: 'shop' }),
    alert({ alertname: 'A', team: 'x', ns: 'kube-system' }),
    alert({ alertname: 'A', team: 'x', ns: 'shop' }, 'resolved'),
    alert({ alertname: 'A' }),
  ];
  for (const pb of [p, labelOnly])
    for (const a of alerts) assert.equal(playbookMatches(pb, a), matchPlaybook(pb, a).matched, `${pb.name} ${JSON.stringify(a.labels)} ${a.status}`);
  const index = new PlaybookIndex([p, labelOnly]);
  assert.deepEqual(
    index.match(alerts[0] as Alert).map((x) => x.name),
    ['p', 'q'],
  );
  assert.deepEqual(
    index.match(alerts[3] as Alert).map((x) => x.name),
    [],
  );
});
