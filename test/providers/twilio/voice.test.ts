/**
 * Twilio Programmable Voice answered by the agent: a scripted caller posts what Twilio posts,
 * signed with the twilio SDK, through a three-turn call, a slow agent (filler, redirect, poll),
 * silences, an agent hanging up, the caller hanging up, and a bad signature (403, nothing stored).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { startFakeTwilio, type FakeTwilio } from '../../../fakes/twilio.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { storeKinds } from '../../helpers/stores.js';
import { channelCounts, createInstance, PRIVATE_OK, waitUntil } from '../../inbound/helpers.js';
import { startAgentStub, type AgentStub } from '../../voice/agent-stub.js';

/** The <Say> texts and the other verbs of a TwiML document, in order. */
function verbs(xml: string): { says: string[]; gather?: string; redirect?: string; hangup: boolean } {
  const says = [...xml.matchAll(/<Say[^>]*>([^<]*)<\/Say>/g)].map((m) => m[1].replace(/&amp;/g, '&').replace(/&apos;/g, "'").replace(/&quot;/g, '"'));
  const gather = /<Gather [^>]*action="([^"]+)"/.exec(xml)?.[1]?.replace(/&amp;/g, '&');
  const redirect = /<Redirect[^>]*>([^<]+)<\/Redirect>/.exec(xml)?.[1]?.replace(/&amp;/g, '&');
  return { says, gather, redirect, hangup: xml.includes('<Hangup/>') };
}

for (const kind of storeKinds()) {
  describe(`Twilio voice on ${kind}`, () => {
    let s: TestServer;
    let agent: AgentStub;
    let fake: FakeTwilio;
    let instanceId: string;
    let channelId: string;
    let base: string;
    const token = 'twilio-token-' + randomBytes(8).toString('hex');
    const accountSid = 'AC' + randomBytes(16).toString('hex');
    const number = `+1415${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    const caller = '+16505550123';

    /** What Twilio would post to `url`, signed the way Twilio signs it. */
    async function post(url: string, params: Record<string, string>, authToken = token) {
      const r = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, url, params) },
        body: new URLSearchParams(params).toString(),
      });
      return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() };
    }
    const callParams = (sid: string, status: string, extra: Record<string, string> = {}) => ({ CallSid: sid, AccountSid: accountSid, From: caller, To: number, CallStatus: status, Direction: 'inbound', ...extra });

    async function setConfig(config: Record<string, unknown>) {
      const r = await s.api('PATCH', `/v1/instances/${instanceId}/channels/${channelId}`, { config });
      assert.equal(r.status, 200, r.text);
    }
    const CONFIG = { greeting: 'Welcome to **Acme**!', voice: 'Polly.Joanna', language: 'en-US' };

    before(async () => {
      agent = await startAgentStub();
      fake = await startFakeTwilio({ accountSid, authToken: token, phoneNumbers: [number] });
      s = await startServer(kind, { env: PRIVATE_OK });
      const inst = await createInstance(s, agent.url, 'twilio voice');
      instanceId = inst.id;
      agent.secret = inst.signing_secret;
      const conn = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'twilio', secrets: { account_sid: accountSid, auth_token: token }, settings: { api_base_url: fake.url } });
      assert.equal(conn.status, 201, conn.text);
      const ch = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'voice', provider: 'twilio', external_identifier: number, connection_id: conn.body.id, config: CONFIG });
      assert.equal(ch.status, 201, ch.text);
      channelId = ch.body.id;
      base = `${s.url}/v1/voice/twilio/${channelId}`;
    });
    after(async () => {
      await s.close();
      await agent.close();
      await fake.close();
    });

    test("provisioning points the number's voice URL and status callback at the voice route", async () => {
      const n = fake.incomingNumbers().find((x) => x.phone_number === number)!;
      assert.equal(n.voice_url, base);
      assert.equal(n.status_callback, base);
      const urls = await s.api('GET', `/v1/instances/${instanceId}/channels/${channelId}/voice`);
      assert.equal(urls.body.twilio_voice_url, base);
    });

    test('a three-turn call, then the caller hangs up', async () => {
      const sid = 'CA' + randomBytes(16).toString('hex');
      const answers: Record<string, unknown> = {
        'I want a pizza': { sse: ['Great **choice**!', ' Which size?'], chunkDelayMs: 20 },
        'Large please': { json: { reply: { text: 'A large pizza. See [the menu](https://acme.example/menu) for toppings.' } } },
        'What toppings do you have': { sse: ['We have cheese. We have ham. We have mushrooms. We have peppers. ', 'We have olives, onions, pineapple and anchovies, and every one of them is fresh from the market this morning.'] },
      };
      agent.script = (r) => (r.body.type === 'message.received' ? (answers[r.body.data.text] as any) : { json: {} });

      const greet = await post(base, callParams(sid, 'ringing'));
      assert.equal(greet.status, 200);
      assert.match(greet.type, /text\/xml/);
      assert.match(greet.text, /<Gather input="speech" action="[^"]+\/turn\?silence=0" method="POST" speechTimeout="auto" actionOnEmptyResult="true" language="en-US">/);
      assert.match(greet.text, /<Say voice="Polly.Joanna" language="en-US">Welcome to Acme!<\/Say>/);
      let action = verbs(greet.text).gather!;
      assert.equal(action, `${base}/turn?silence=0`);

      const said: string[][] = [];
      for (const speech of Object.keys(answers)) {
        const r = await post(action, callParams(sid, 'in-progress', { SpeechResult: speech, Confidence: '0.92' }));
        assert.equal(r.status, 200, r.text);
        const v = verbs(r.text);
        assert.ok(v.gather, 'the loop continues with another Gather');
        assert.equal(v.hangup, false);
        said.push(v.says);
        action = v.gather!;
      }
      assert.deepEqual(said[0], ['Great choice!', 'Which size?']);
      assert.deepEqual(said[1], ['A large pizza.', 'See the menu for toppings.']);
      assert.equal(said[2][0], 'We have cheese.', 'the first chunk is one sentence, so speech starts early');
      assert.ok(said[2].length >= 2);
      assert.equal(said[2].join(' '), 'We have cheese. We have ham. We have mushrooms. We have peppers. We have olives, onions, pineapple and anchovies, and every one of them is fresh from the market this morning.');
      const turns = agent.ofType('message.received').filter((r) => r.body.data.conversation_key === sid);
      assert.equal(turns.length, 3);
      assert.ok(turns.every((t) => t.verified));

      const bye = await post(base, callParams(sid, 'completed', { CallDuration: '42' }));
      assert.equal(bye.status, 200);
      assert.equal(bye.text, '<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
      await agent.waitFor(() => agent.ofType('call.ended').some((r) => r.body.data.call_id === sid));
      const ended = agent.ofType('call.ended').find((r) => r.body.data.call_id === sid)!;
      assert.equal(ended.body.data.duration_ms, 42_000);

      const conv = (await s.api('GET', `/v1/instances/${instanceId}/conversations`)).body.conversations.find((c: any) => c.key === sid);
      const msgs = (await s.api('GET', `/v1/instances/${instanceId}/conversations/${conv.id}/messages`)).body.messages;
      assert.deepEqual(msgs.map((m: any) => `${m.direction}:${m.text}`), [
        'inbound:I want a pizza', 'outbound:Great **choice**! Which size?',
        'inbound:Large please', 'outbound:A large pizza. See [the menu](https://acme.example/menu) for toppings.',
        'inbound:What toppings do you have', `outbound:${said[2].join(' ')}`,
      ]);
      assert.equal(ended.body.conversation_id, conv.id);
    });

    test('a slow agent: filler and redirect, the poll speaks the answer', async () => {
      await setConfig({ ...CONFIG, answer_timeout_ms: 300 });
      const sid = 'CA' + randomBytes(16).toString('hex');
      agent.script = (r) => (r.body.type === 'message.received' ? { delayMs: 900, json: { reply: { text: 'Sorry for the wait. Your order is on its way.' } } } : { json: {} });
      await post(base, callParams(sid, 'in-progress'));
      const first = await post(`${base}/turn?silence=0`, callParams(sid, 'in-progress', { SpeechResult: 'Where is my order', Confidence: '0.9' }));
      const v = verbs(first.text);
      assert.deepEqual(v.says, ['One moment…']);
      assert.match(v.redirect ?? '', new RegExp(`^${base}/poll\\?turn=[0-9a-f-]{36}&n=1$`));
      let next = v.redirect!;
      let spoken: string[] = [];
      for (let i = 0; i < 6 && !spoken.length; i++) {
        const r = await post(next, callParams(sid, 'in-progress'));
        assert.equal(r.status, 200);
        const pv = verbs(r.text);
        if (pv.redirect?.includes('/poll')) next = pv.redirect;
        else spoken = pv.says;
      }
      assert.deepEqual(spoken, ['Sorry for the wait.', 'Your order is on its way.']);
      assert.equal(agent.ofType('message.received').filter((r) => r.body.data.conversation_key === sid).length, 1, 'the agent is asked once');
      await setConfig(CONFIG);
    });

    test('silence: a reprompt, then goodbye and hang up; an agent can end the call', async () => {
      const sid = 'CA' + randomBytes(16).toString('hex');
      const r1 = verbs((await post(`${base}/turn?silence=0`, callParams(sid, 'in-progress'))).text);
      assert.deepEqual(r1.says, ['Are you still there?']);
      assert.equal(r1.gather, `${base}/turn?silence=1`);
      const r2 = verbs((await post(r1.gather!, callParams(sid, 'in-progress'))).text);
      assert.deepEqual(r2.says, ['Goodbye.']);
      assert.equal(r2.hangup, true);

      agent.script = () => ({ json: { reply: { text: 'Thanks, bye!', end_call: true } } });
      const r3 = verbs((await post(`${base}/turn?silence=0`, callParams(sid, 'in-progress', { SpeechResult: 'that is all' }))).text);
      assert.deepEqual(r3.says, ['Thanks, bye!']);
      assert.equal(r3.hangup, true);
      assert.equal(r3.gather, undefined);
    });

    test('a bad signature is refused with 403 and nothing is stored', async () => {
      const before = await channelCounts(s, channelId);
      const sid = 'CA' + randomBytes(16).toString('hex');
      const calls = agent.requests.length;
      const a = await post(base, callParams(sid, 'ringing'), token + 'x');
      const b = await post(`${base}/turn?silence=0`, callParams(sid, 'in-progress', { SpeechResult: 'hello' }), token + 'x');
      const c = await fetch(`${base}/turn?silence=0`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(callParams(sid, 'in-progress', { SpeechResult: 'hello' })).toString() });
      // Signed for another URL (the query is part of what Twilio signs).
      const params = callParams(sid, 'in-progress', { SpeechResult: 'hello' });
      const d = await fetch(`${base}/turn?silence=1`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(token, `${base}/turn?silence=0`, params) }, body: new URLSearchParams(params).toString() });
      assert.deepEqual([a.status, b.status, c.status, d.status], [403, 403, 401, 403]);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(await channelCounts(s, channelId), before);
      assert.equal(agent.requests.length, calls);
    });

    test('a hang-up while the agent is answering aborts its request', async () => {
      await setConfig({ ...CONFIG, answer_timeout_ms: 200 });
      const sid = 'CA' + randomBytes(16).toString('hex');
      agent.script = (r) => (r.body.type === 'message.received' ? { delayMs: 3000, json: { reply: { text: 'too late' } } } : { json: {} });
      const r = verbs((await post(`${base}/turn?silence=0`, callParams(sid, 'in-progress', { SpeechResult: 'hello?' }))).text);
      assert.ok(r.redirect?.includes('/poll'));
      await post(base, callParams(sid, 'completed'));
      await waitUntil(() => agent.ofType('message.received').find((x) => x.body.data.conversation_key === sid)?.aborted, 5000, 'aborted agent request');
      await setConfig(CONFIG);
    });
  });
}
