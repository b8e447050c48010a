import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CHANNEL_TYPES } from '../../src/core/channel-types.js';
import { getAdapter, knownProviders } from '../../src/adapters/registry.js';

describe('adapter registry', () => {
  it('knows the seven providers and resolves each by name', () => {
    assert.deepEqual(knownProviders().sort(), ['gmail', 'meta_cloud', 'resend', 'retell', 'telegram', 'twilio', 'web']);
    for (const p of knownProviders()) {
      const a = getAdapter(p);
      assert.ok(a, p);
      assert.equal(a.provider, p);
      assert.ok(a.channelTypes.length > 0);
      for (const t of a.channelTypes) assert.ok((CHANNEL_TYPES as readonly string[]).includes(t), `${p}: ${t}`);
    }
    assert.equal(getAdapter('smoke_signals'), undefined);
  });

  it('never throws from verify, even on an empty request and context', async () => {
    for (const p of knownProviders()) {
      const r = await getAdapter(p)!.verify(
        { method: 'POST', publicUrl: 'not a url', headers: {}, body: Buffer.alloc(0) },
        { secrets: {}, settings: {}, config: {}, apiBaseUrl: 'http://127.0.0.1:9', now: () => 0, fetch },
      );
      // Every provider, web chat included, fails closed without a secret and a signature.
      assert.equal(r.ok, false, p);
    }
  });
});
