/**
 * The contract suite covers every registered provider: each has an entry in kits.ts, and a half
 * it leaves out is one its adapter declares it does not have (no public webhook, a widget, voice
 * only). Adding a provider to the registry without kits fails here.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { knownProviders, providers } from '../../src/adapters/registry.js';
import { KITS, kitsOf } from './kits.js';

describe('provider contract coverage', () => {
  test('every registered provider has kits, and only registered providers do', () => {
    for (const p of providers()) assert.doesNotThrow(() => kitsOf(p.name), p.name);
    assert.deepEqual(Object.keys(KITS).sort(), [...knownProviders()].sort());
  });

  for (const a of providers()) {
    test(`${a.name}: a missing half is one the adapter declares it has not`, () => {
      const k = kitsOf(a.name);
      if (typeof k.inbound === 'function') {
        assert.ok(a.inbound, `${a.name} has an inbound kit but no inbound part`);
        assert.notEqual(a.publicWebhook, false, `${a.name} has an inbound kit but no public webhook`);
      } else {
        assert.equal(k.inbound.none, 'no_public_webhook');
        assert.equal(a.publicWebhook, false, `${a.name} has no inbound kit: it must declare publicWebhook: false`);
      }
      if (typeof k.outbound === 'function') {
        assert.ok(a.outbound, `${a.name} has an outbound kit but no outbound part`);
        assert.ok(a.api, `${a.name} sends: it must name its API base URL and env variable`);
      } else {
        assert.equal(a.outbound, undefined, `${a.name} has an outbound part: it needs an outbound kit`);
        if (k.outbound.none === 'widget') assert.equal(a.widget, true, `${a.name}: no outbound because it is a widget, so widget: true`);
        else if (k.outbound.none === 'voice') assert.ok(a.channelTypes.every((t) => t === 'voice'), `${a.name}: no outbound because it is voice only, so every channel type is voice`);
        else assert.fail(`${a.name}: '${k.outbound.none}' does not explain a missing outbound part`);
        // Nothing may promise what only a sender can do.
        for (const cap of ['drafts', 'typing', 'edit'] as const) assert.equal(a.capabilities[cap], false, `${a.name}: ${cap} without an outbound part`);
      }
    });
  }
});
