import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Retell from 'retell-sdk';
import { retellAdapter as rt } from '../../../src/adapters/retell/index.js';
import { PayloadError } from '../../../src/adapters/contract.js';
import { ctx, json, JUNK_BODIES, req } from '../../adapters/helpers.js';

const KEY = 'key_0123456789abcdef';

/** Signed by the official SDK (which stamps with the real clock), so tests use the real clock too. */
function signed(body: string, key = KEY) {
  return req(body, { 'content-type': 'application/json', 'x-retell-signature': Retell.sign(body, key) });
}
const at = (offsetMs: number) => ctx({ verifySecret: KEY, now: () => Date.now() + offsetMs });

const call = {
  call_type: 'phone_call',
  call_id: 'Jabr9TXYYJHfvl6Syypi88rdAHYHmcq6',
  agent_id: 'oBeDLoLOeuAbiuaMFXRtDOLriTJ5tSxD',
  call_status: 'ended',
  from_number: '+12137771234',
  to_number: '+12137771235',
  direction: 'inbound',
  start_timestamp: 1714608475945,
  end_timestamp: 1714608491736,
  disconnection_reason: 'user_hangup',
  transcript: 'Agent: hi how are you doing?\nUser: Doing pretty well. How are you?\n',
  transcript_object: [
    { role: 'agent', content: 'hi how are you doing?', words: [] },
    { role: 'user', content: 'Doing pretty well. How are you?', words: [] },
  ],
};

describe('retell verify', () => {
  it('accepts a request signed with retell-sdk, and agrees with Retell.verify', async () => {
    const body = JSON.stringify({ event: 'call_started', call: { call_id: 'c1' }, note: 'caf\u00e9' });
    const r = signed(body);
    assert.deepEqual(await rt.verify(r, at(0)), { ok: true });
    assert.equal(Retell.verify(body, KEY, r.headers['x-retell-signature'] ?? ''), true);
  });

  it('fails closed on stale/future timestamps, wrong key, tampering, missing header or key', async () => {
    const body = JSON.stringify({ event: 'call_ended', call: { call_id: 'c1' } });
    assert.equal((await rt.verify(signed(body), at(6 * 60_000))).ok, false, 'stale');
    assert.equal((await rt.verify(signed(body), at(-6 * 60_000))).ok, false, 'future');
    assert.deepEqual(await rt.verify(signed(body), at(4 * 60_000)), { ok: true });
    assert.equal((await rt.verify(signed(body, 'key_other'), at(0))).ok, false, 'wrong key');
    assert.equal((await rt.verify({ ...signed(body), body: Buffer.from(body.replace('c1', 'c2')) }, at(0))).ok, false, 'tampered');
    assert.equal((await rt.verify(req(body), at(0))).ok, false, 'missing header');
    assert.equal((await rt.verify(req(body, { 'x-retell-signature': 'd=abc' }), at(0))).ok, false, 'malformed header');
    assert.equal((await rt.verify(signed(body), ctx({ now: () => Date.now() }))).ok, false, 'no key');
  });
});

describe('retell parse', () => {
  it('maps call_started / call_ended / call_analyzed', async () => {
    const [started] = await rt.parse(json({ event: 'call_started', call: { ...call, call_status: 'ongoing', end_timestamp: undefined, transcript: undefined, transcript_object: undefined } }), ctx());
    assert.ok(started.kind === 'call');
    assert.equal(started.phase, 'started');
    assert.equal(started.providerEventId, `${call.call_id}:call_started`);
    assert.equal(started.conversationKey, call.call_id);
    assert.equal(started.channelIdentity, call.agent_id);
    assert.deepEqual(started.to, { id: '+12137771235', phone: '+12137771235' });
    assert.deepEqual(started.from, { id: '+12137771234', phone: '+12137771234' });
    assert.equal(started.occurredAt, new Date(call.start_timestamp).toISOString());

    const [ended] = await rt.parse(json({ event: 'call_ended', call }), ctx());
    assert.ok(ended.kind === 'call');
    assert.equal(ended.phase, 'ended');
    assert.equal(ended.durationMs, 15791);
    assert.equal(ended.disconnectionReason, 'user_hangup');
    assert.deepEqual(ended.transcript, [{ role: 'agent', content: 'hi how are you doing?' }, { role: 'user', content: 'Doing pretty well. How are you?' }]);
    assert.equal(ended.occurredAt, new Date(call.end_timestamp).toISOString());

    const analysis = { call_summary: 'The user said hi.', user_sentiment: 'Positive', call_successful: true };
    const [analyzed] = await rt.parse(json({ event: 'call_analyzed', call: { ...call, transcript_object: undefined, duration_ms: 15000, call_analysis: analysis } }), ctx());
    assert.ok(analyzed.kind === 'call');
    assert.equal(analyzed.phase, 'analyzed');
    assert.equal(analyzed.summary, 'The user said hi.');
    assert.equal(analyzed.sentiment, 'Positive');
    assert.equal(analyzed.durationMs, 15000);
    assert.deepEqual(analyzed.transcript?.map((t) => t.role), ['agent', 'user']);
  });

  it('keeps other events as unsupported, and duplicates share an id', async () => {
    const [e] = await rt.parse(json({ event: 'transcript_updated', call }), ctx());
    assert.ok(e.kind === 'unsupported');
    assert.equal(e.providerType, 'transcript_updated');
    const [a] = await rt.parse(json({ event: 'call_ended', call }), ctx());
    const [b] = await rt.parse(json({ event: 'call_ended', call }), ctx());
    assert.equal(a.providerEventId, b.providerEventId);
  });

  it('refuses malformed bodies with PayloadError', async () => {
    for (const b of JUNK_BODIES) await assert.rejects(rt.parse(req(b), ctx()), PayloadError);
    const bad: object[] = [{ call }, { event: 'call_ended' }, { event: 'call_ended', call: { agent_id: 'a' } }, { event: 'call_ended', call: { call_id: 7 } }, { event: 'call_ended', call: { ...call, transcript_object: [{ content: 'x' }] } }, { event: 'call_ended', call: { ...call, duration_ms: 'long' } }];
    for (const b of bad) await assert.rejects(rt.parse(json(b), ctx()), PayloadError, JSON.stringify(b));
  });
});
