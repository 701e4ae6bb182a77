// Unit test: starts nothing (see scripts/test.mjs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import nock from 'nock';
import { escalationDedupKey, PagerDutyNotifier } from '../../src/notify/pagerduty-notifier.js';
import { onlyNockedCalls } from '../support/nock.js';

onlyNockedCalls();

const opened = {
  kind: 'escalation.opened' as const,
  text: 'Escalated: rollback did not fix "shop/checkout"',
  playbook: 'rollback',
  data: { playbook: 'rollback', targetKey: 'shop/checkout', openedAt: '2026-12-02T10:00:00.000Z', runs: [{ id: 'r1', state: 'failed' }] },
};

describe('PagerDuty Events API v2 notifier', () => {
  test('a trigger carries the routing key, a stable dedup_key and the details; 202 is success', async () => {
    let body: unknown;
    nock('https://events.pagerduty.com')
      .post('/v2/enqueue', (b: unknown) => {
        body = b;
        return true;
      })
      .reply(202, { status: 'success', message: 'Event processed', dedup_key: 'remediator/rollback/shop/checkout' });
    await new PagerDutyNotifier('pagerduty', { routingKey: 'KEY', severity: 'error' }).send(opened);
    assert.deepEqual(body, {
      routing_key: 'KEY',
      event_action: 'trigger',
      dedup_key: 'remediator/rollback/shop/checkout',
      client: 'remediator',
      payload: {
        summary: opened.text,
        source: 'shop/checkout',
        severity: 'error',
        timestamp: '2026-12-02T10:00:00.000Z',
        component: 'rollback',
        class: 'remediation escalated',
        custom_details: opened.data,
      },
    });
  });

  test('5xx and 429 are tried again, 400 is not', async () => {
    const sleeps: number[] = [];
    const sleep = (ms: number): Promise<void> => {
      sleeps.push(ms);
      return Promise.resolve();
    };
    nock('https://events.pagerduty.com').post('/v2/enqueue').reply(500).post('/v2/enqueue').reply(429).post('/v2/enqueue').reply(202, {});
    await new PagerDutyNotifier('pd', { routingKey: 'KEY', sleep }).send(opened);
    assert.deepEqual(sleeps, [1000, 2000]);
    nock('https://events.pagerduty.com')
      .post('/v2/enqueue')
      .reply(400, { status: 'invalid event', errors: ['routing_key is invalid'] });
    await assert.rejects(new PagerDutyNotifier('pd', { routingKey: 'KEY', sleep }).send(opened), /HTTP 400.*routing_key is invalid/);
    assert.equal(sleeps.length, 2, 'no retry after a 400');
  });

  test('takes escalations only; a long key is hashed under 255 characters', () => {
    const pd = new PagerDutyNotifier('pd', { routingKey: 'KEY' });
    assert.equal(pd.accepts('escalation.opened'), true);
    assert.equal(pd.accepts('escalation.cleared'), true);
    assert.equal(pd.accepts('run.finished'), false);
    const key = escalationDedupKey('p', 'x'.repeat(300));
    assert.ok(key.length <= 255);
    assert.equal(key, escalationDedupKey('p', 'x'.repeat(300)));
  });
});
