import assert from 'node:assert/strict';
import { afterEach, before } from 'node:test';
import nock from 'nock';

/**
 * For a suite that talks only to nocked third-party APIs (Slack): no real connection is made, and
 * after each test every expected call must have happened; the interceptors are then cleared.
 */
export function onlyNockedCalls(): void {
  before(() => {
    nock.disableNetConnect();
  });
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    assert.deepEqual(pending, [], 'Slack calls expected but not made');
  });
}
