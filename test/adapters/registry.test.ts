import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CHANNEL_TYPES } from '../../src/adapters/channel-types.js';
import { capabilitiesFor } from '../../src/adapters/contract.js';
import { getProvider, knownProviders, providers } from '../../src/adapters/registry.js';

describe('adapter registry', () => {
  it('resolves each registered provider by name, with its facts filled in', () => {
    assert.ok(knownProviders().length >= 7);
    assert.equal(new Set(knownProviders()).size, knownProviders().length, 'names are unique');
    const envs = new Set<string>();
    for (const p of knownProviders()) {
      const a = getProvider(p);
      assert.ok(a, p);
      assert.equal(a.name, p);
      assert.ok(a.displayName, p);
      assert.ok(a.channelTypes.length > 0);
      for (const t of a.channelTypes) {
        assert.ok((CHANNEL_TYPES as readonly string[]).includes(t), `${p}: ${t}`);
        const caps = capabilitiesFor(a, t);
        assert.ok(caps.maxTextLength > 0 && caps.maxAttachments >= 0, `${p}/${t} limits`);
        if (caps.drafts) assert.ok(a.outbound?.draft, `${p}: drafts need outbound.draft`);
        if (caps.typing) assert.ok(a.outbound?.typing, `${p}: typing needs outbound.typing`);
      }
      if (a.secrets.verify) assert.ok([...a.secrets.required, ...a.secrets.optional].includes(a.secrets.verify), `${p}: verify secret is one of its secrets`);
      if (a.api) {
        assert.match(a.api.env, /^SWITCHBOARD_[A-Z0-9_]+_URL$/, p);
        assert.ok(!envs.has(a.api.env), `${p}: env ${a.api.env} is unique`);
        envs.add(a.api.env);
        assert.match(a.api.defaultBaseUrl, /^https:\/\//, p);
      }
      // Something has to answer for a provider: webhooks, a send path, or the widget.
      assert.ok(a.inbound || a.outbound, p);
    }
    assert.equal(getProvider('smoke_signals'), undefined);
    assert.equal(providers().length, knownProviders().length);
  });

  it('never throws from verify, even on an empty request and context', async () => {
    for (const a of providers()) {
      if (!a.inbound) continue;
      const r = await a.inbound.verify(
        { method: 'POST', publicUrl: 'not a url', headers: {}, body: Buffer.alloc(0) },
        { secrets: {}, settings: {}, config: {}, apiBaseUrl: 'http://127.0.0.1:9', now: () => 0, fetch },
      );
      // Every provider, web chat included, fails closed without a secret and a signature.
      assert.equal(r.ok, false, a.name);
    }
  });
});
