import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Run } from '../../../src/domain/run.js';
import type { StormRecord } from '../../../src/domain/store.js';
import {
  ALICE_TOKEN,
  alertPayload,
  consoleFetch,
  signIn,
  startConsoleDaemon,
  stopConsoleDaemon,
  VICTOR_TOKEN,
  type HttpSession,
} from '../../support/console-daemon.js';
import type { TestDaemon } from '../../support/test-daemon.js';
import { until } from '../../support/until.js';

describe('web console: the storm and escalations on the guards page', () => {
  let d: TestDaemon;
  let alice: HttpSession;
  let victor: HttpSession;
  before(async () => {
    d = await startConsoleDaemon({ config: { guards: { storm: { alerts: 2, targets: 2, within: '1m', cooldown: '10m' } } } });
    alice = await signIn(d, ALICE_TOKEN);
    victor = await signIn(d, VICTOR_TOKEN);
  });
  after(() => stopConsoleDaemon(d));

  test('the open storm shows its figures; a person with approve decides its held runs together, each recorded with them', async () => {
    for (const deployment of ['cart', 'shop', 'auth', 'search'])
      assert.equal((await d.post(alertPayload('Burst', { deployment, cluster: 'eu1' }))).status, 200);
    await d.settled();
    const { storms } = await d.api<{ storms: StormRecord[] }>('/api/storms');
    const storm = storms[0];
    assert.ok(storm);
    const page = await (await consoleFetch(d, alice, '/console/guards')).text();
    assert.match(page, new RegExp(`${storm.id}: <strong>4</strong> alerts across <strong>4</strong> targets`));
    assert.match(page, /cluster=eu1/);
    assert.match(page, /Approve 2 held run\(s\)/);
    assert.doesNotMatch(await (await consoleFetch(d, victor, '/console/guards')).text(), /Approve 2 held run/, 'view only: no buttons');
    const refused = await consoleFetch(d, victor, `/console/guards/storms/${storm.id}/approve`, { _csrf: victor.csrf });
    assert.equal(refused.status, 403);

    const approved = await consoleFetch(d, alice, `/console/guards/storms/${storm.id}/approve`, { _csrf: alice.csrf, comment: 'platform fixed' });
    assert.equal(approved.status, 303);
    assert.equal(approved.headers.get('location'), '/console/guards?done=storm-approved');
    const runs = await until('the storm runs went on', async () => {
      const { runs: all } = await d.api<{ runs: Run[] }>('/api/runs?limit=50');
      const mine = all.filter((r) => r.stormId === storm.id);
      return mine.length === 2 && mine.every((r) => r.state === 'succeeded') ? mine : null;
    });
    for (const r of runs) {
      const detail = await d.store.getRun(r.id);
      // The playbook's own approval comes first (mode approve holds at its first changing step):
      // the storm's verdict answers it, recorded with alice through the console.
      assert.deepEqual(
        detail?.approvals.map((a) => [a.decision, a.decidedBy, a.decidedVia, a.comment]),
        [['approved', 'alice', 'console', 'platform fixed']],
      );
    }
  });

  test('an open escalation is cleared from the console by a person with operate, recorded with them', async () => {
    const opened = await d.store.openEscalation({
      id: 'e_console',
      playbook: 'rollback',
      targetKey: 'cart',
      at: new Date().toISOString(),
      reason: 'two runs failed',
      runs: [],
    });
    assert.ok(opened);
    const page = await (await consoleFetch(d, alice, '/console/guards')).text();
    assert.match(page, /e_console/);
    assert.match(page, /two runs failed/);
    assert.equal((await consoleFetch(d, victor, '/console/guards/escalations/e_console/clear', { _csrf: victor.csrf })).status, 403);
    const cleared = await consoleFetch(d, alice, '/console/guards/escalations/e_console/clear', { _csrf: alice.csrf, note: 'image fixed' });
    assert.equal(cleared.status, 303);
    assert.equal(cleared.headers.get('location'), '/console/guards?done=escalation-cleared');
    const e = await d.store.getEscalation('e_console');
    assert.deepEqual([e?.clearedBy, e?.clearNote], ['alice', 'image fixed']);
    const event = (await d.store.listEvents({ kind: 'escalation.cleared', limit: 10 })).at(-1);
    assert.equal(event?.data['via'], 'console');
    assert.doesNotMatch(await (await consoleFetch(d, alice, '/console/guards')).text(), /e_console/);
  });
});
