import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeRetell } from '../../../fakes/retell.js';
import type { FakeRetell } from '../../../fakes/retell.js';
import { retellApi } from '../../../src/adapters/retell/api.js';
import { assertNoSecret, closedPortUrl, expectProviderError } from '../../provider-api/helpers.js';

describe('retell api client against the fake', () => {
  let rt: FakeRetell;
  before(async () => {
    rt = await startFakeRetell();
  });
  after(() => rt.close());

  it('gets a call and maps errors', async () => {
    rt.addCall({ call_id: 'call_1', transcript: 'Agent: Hello' });
    const api = retellApi({ apiKey: rt.apiKey, baseUrl: rt.url });
    const call = await api.getCall('call_1');
    assert.equal(call.transcript, 'Agent: Hello');
    assert.equal(call.call_status, 'ended');
    await expectProviderError(api.getCall('call_2'), 'not_found');
    const auth = await expectProviderError(retellApi({ apiKey: 'key_wrong', baseUrl: rt.url }).getCall('call_1'), 'auth');
    assertNoSecret(auth, 'key_wrong');
    rt.failNext({ status: 429, retryAfter: 2 });
    assert.equal((await expectProviderError(api.getCall('call_1'), 'rate_limited')).retryAfterMs, 2000);
    rt.failNext({ status: 503 });
    await expectProviderError(api.getCall('call_1'), 'retryable');
    // A read that timed out is safe to repeat.
    rt.failNext({ timeoutMs: 300 });
    await expectProviderError(retellApi({ apiKey: rt.apiKey, baseUrl: rt.url, timeoutMs: 80 }).getCall('call_1'), 'retryable');
    await expectProviderError(retellApi({ apiKey: rt.apiKey, baseUrl: await closedPortUrl() }).getCall('call_1'), 'retryable');
  });
});
