import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { webAdapter as web } from '../../../src/adapters/web/index.js';
import { PayloadError } from '../../../src/adapters/contract.js';
import { ctx, json, JUNK_BODIES, NOW, req } from '../../adapters/helpers.js';

const SECRET = 'site-secret';
const sig = (visitor: string, secret = SECRET) => createHmac('sha256', secret).update(visitor).digest('hex');
const msg = { visitor_id: 'v_123', text: 'hello', client_message_id: 'cm_1' };

describe('web verify', () => {
  it('accepts correctly signed visitors and refuses unsigned posts (fail closed)', async () => {
    assert.equal((await web.verify(json(msg), ctx({ verifySecret: SECRET }))).ok, false);
    assert.equal((await web.verify(json(msg), ctx())).ok, false);
    assert.deepEqual(await web.verify(json(msg, { 'x-switchboard-visitor-signature': sig('v_123') }), ctx({ verifySecret: SECRET })), { ok: true });
  });
  it('refuses a present but wrong signature, or one the channel cannot check', async () => {
    const c = ctx({ verifySecret: SECRET });
    assert.equal((await web.verify(json(msg, { 'x-switchboard-visitor-signature': sig('v_123', 'x') }), c)).ok, false);
    assert.equal((await web.verify(json({ ...msg, visitor_id: 'v_999' }, { 'x-switchboard-visitor-signature': sig('v_123') }), c)).ok, false);
    assert.equal((await web.verify(json(msg, { 'x-switchboard-visitor-signature': sig('v_123') }), ctx())).ok, false);
    assert.equal((await web.verify(req('{junk', { 'x-switchboard-visitor-signature': sig('v_123') }), c)).ok, false);
  });
});

describe('web parse', () => {
  it('parses a widget message', async () => {
    const [e] = await web.parse(json(msg), ctx());
    assert.ok(e.kind === 'message');
    assert.equal(e.providerEventId, 'cm_1');
    assert.equal(e.conversationKey, 'v_123');
    assert.equal(e.text, 'hello');
    assert.equal(e.occurredAt, new Date(NOW).toISOString());
  });
  it('refuses malformed bodies with PayloadError', async () => {
    for (const b of JUNK_BODIES) await assert.rejects(web.parse(req(b), ctx()), PayloadError);
    const bad = [{ ...msg, client_message_id: undefined }, { ...msg, client_message_id: 'x'.repeat(201) }, { ...msg, visitor_id: 5 }, { ...msg, text: ['a'] }];
    for (const b of bad) await assert.rejects(web.parse(json(b), ctx()), PayloadError);
  });
});
