/**
 * Agent delivery end to end, on every store: Standard Webhooks signatures, a stable webhook-id
 * across retries, retries on the configured schedule then the dead letter (listed and replayable),
 * order per conversation, agent replies stored as outbound messages, the events API and the SSE
 * stream (Last-Event-ID resume) showing the same events, and the SSRF guard on agent_url.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';
import { startFakeAgent, type FakeAgent } from './fake-agent.js';
import { createInstance, PRIVATE_OK, send, sleep, telegramKit, waitUntil, type Kit } from './helpers.js';

const SCHEDULE = [50, 100, 200];

interface SseEvent {
  id: string;
  event: string;
  data: any;
}

/** Reads `count` events from an SSE endpoint, then disconnects. */
async function readSse(url: string, headers: Record<string, string>, count: number, timeoutMs = 8000): Promise<SseEvent[]> {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  const out: SseEvent[] = [];
  try {
    const res = await fetch(url, { headers, signal: ctrl.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const f: Record<string, string> = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const c = line.indexOf(':');
          if (c > 0) f[line.slice(0, c)] = line.slice(c + 1).replace(/^ /, '');
        }
        if (f.id !== undefined) out.push({ id: f.id, event: f.event, data: JSON.parse(f.data) });
        if (out.length >= count) return out;
      }
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  } finally {
    clearTimeout(timer);
    ctrl.abort();
  }
  return out;
}

for (const kind of storeKinds()) {
  describe(`agent delivery on ${kind}`, () => {
    let s: TestServer;
    const agents: FakeAgent[] = [];

    before(async () => {
      s = await startServer(kind, { env: PRIVATE_OK, services: { scheduleMs: SCHEDULE } });
    });
    after(async () => {
      await s.close();
      await Promise.all(agents.map((a) => a.close()));
    });

    async function setup(): Promise<{ agent: FakeAgent; instanceId: string; kit: Kit }> {
      const agent = await startFakeAgent();
      agents.push(agent);
      const inst = await createInstance(s, agent.url);
      agent.secret = inst.signing_secret;
      const kit = await telegramKit({ s, instanceId: inst.id });
      return { agent, instanceId: inst.id, kit };
    }

    test('retries keep the webhook-id, back off on the schedule, then dead-letter; replay delivers', async () => {
      const { agent, instanceId, kit } = await setup();
      agent.script = () => ({ status: 503, text: 'down' });
      assert.equal((await send(await kit.valid(1))).status, 200);
      // 1 attempt + one per schedule entry, then dead.
      await agent.waitFor((ds) => ds.length >= SCHEDULE.length + 1, 10_000);
      const dead = await waitUntil(async () => {
        const r = await s.api('GET', `/v1/instances/${instanceId}/deliveries/dead`);
        return r.body.count === 1 ? r.body.deliveries[0] : undefined;
      }, 5000, 'the dead letter');
      const tries = agent.deliveries;
      assert.equal(tries.length, SCHEDULE.length + 1);
      assert.equal(new Set(tries.map((d) => d.id)).size, 1, 'one webhook-id across all attempts');
      assert.ok(tries.every((d) => d.verified), 'every attempt is signed');
      assert.deepEqual(tries.map((d) => d.attempt), [1, 2, 3, 4]);
      // Backoff: each gap at least the scheduled delay minus jitter (20 %), and growing overall.
      for (let i = 1; i < tries.length; i++) {
        const gap = tries[i].at - tries[i - 1].at;
        assert.ok(gap >= SCHEDULE[i - 1] * 0.8 - 5, `gap ${i} was ${gap} ms, schedule says ${SCHEDULE[i - 1]}`);
      }
      assert.equal(dead.event_id, tries[0].id);
      assert.equal(dead.attempts, 4);
      assert.match(dead.last_error, /gave up after 4 attempts: the agent answered HTTP 503/);

      agent.script = () => ({ status: 200, json: {} });
      const replay = await s.api('POST', `/v1/instances/${instanceId}/deliveries/${dead.id}/replay`);
      assert.equal(replay.status, 202);
      await agent.waitFor(() => agent.accepted().length === 1);
      assert.equal(agent.accepted()[0].id, tries[0].id, 'the replay keeps the webhook-id');
      assert.equal((await s.api('GET', `/v1/instances/${instanceId}/deliveries/dead`)).body.count, 0);
      const again = await s.api('POST', `/v1/instances/${instanceId}/deliveries/${dead.id}/replay`);
      assert.equal(again.status, 404, 'only a dead delivery can be replayed');
    });

    test('a Retry-After from the agent is honoured', async () => {
      const { agent, kit } = await setup();
      agent.script = (_d, n) => (n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 });
      await send(await kit.valid(1));
      await agent.waitFor(() => agent.accepted().length === 1, 5000);
      const [a, b] = agent.deliveries;
      assert.ok(b.at - a.at >= 900, `retried after ${b.at - a.at} ms, Retry-After said 1 s`);
    });

    test('deliveries are in order per conversation; a stuck conversation does not block others', async () => {
      const { agent, kit } = await setup();
      // Conversation 1's first event fails three times (~350 ms of backoff); everything else succeeds
      // at once. Conversation 2 arrives between conversation 1's first and later events.
      agent.script = (d, n) => (d.body?.data?.text === 'hello 1' && n <= 3 ? { status: 500 } : { status: 200 });
      assert.equal((await send(await kit.valid(1, 1))).status, 200);
      for (let n = 6; n <= 8; n++) assert.equal((await send(await kit.valid(n, 2))).status, 200);
      for (let n = 2; n <= 5; n++) assert.equal((await send(await kit.valid(n, 1))).status, 200);
      await agent.waitFor(() => agent.accepted().length === 8, 10_000);
      const texts = (conv: number) => agent.accepted().filter((d) => d.body.data.from?.id === String(7000 + conv)).map((d) => d.body.data.text);
      assert.deepEqual(texts(1), ['hello 1', 'hello 2', 'hello 3', 'hello 4', 'hello 5']);
      assert.deepEqual(texts(2), ['hello 6', 'hello 7', 'hello 8']);
      // Conversation 2 went through while conversation 1 was waiting on its retries.
      const firstOk1 = agent.accepted().findIndex((d) => d.body.data.text === 'hello 1');
      const lastOk2 = agent.accepted().findIndex((d) => d.body.data.text === 'hello 8');
      assert.ok(lastOk2 < firstOk1, 'the other conversation was not held up');
      // Nothing of conversation 1 reached the agent before its first event was accepted.
      const firstTry = agent.deliveries.findIndex((d) => d.body.data.text === 'hello 2');
      const accepted1 = agent.deliveries.map((d) => d.body.data.text).lastIndexOf('hello 1');
      assert.ok(firstTry > accepted1, 'hello 2 was first tried only after hello 1 was accepted');
    });

    test('an agent answering {"reply":{"text":...}} gets it stored as an outbound message', async () => {
      const { agent, instanceId, kit } = await setup();
      agent.script = (d) => ({ status: 200, json: { reply: { text: `echo: ${d.body.data.text}` } } });
      await send(await kit.valid(1));
      await agent.waitFor(() => agent.accepted().length === 1);
      const cid = agent.accepted()[0].body.conversation_id;
      assert.ok(cid);
      const msgs = await waitUntil(async () => {
        const r = await s.api('GET', `/v1/instances/${instanceId}/conversations/${cid}/messages`);
        return r.body.messages.some((m: any) => m.direction === 'outbound') ? r.body.messages : undefined;
      }, 5000, 'the stored reply');
      const out = msgs.filter((m: any) => m.direction === 'outbound');
      assert.equal(out.length, 1);
      assert.equal(out[0].text, 'echo: hello 1');
      const inbound = msgs.find((m: any) => m.direction === 'inbound' && m.text === 'hello 1');
      assert.ok(inbound);
      assert.equal(out[0].in_reply_to, inbound.id, 'the reply says which message it answers');
      assert.equal(out[0].author.kind, 'agent');
      assert.equal(inbound.author.kind, 'contact');
      assert.ok(out[0].created_at >= inbound.created_at);
    });

    test('GET /events?after= and the SSE stream show the same events; Last-Event-ID resumes', async () => {
      const { agent, instanceId, kit } = await setup();
      for (let n = 1; n <= 6; n++) await send(await kit.valid(n, (n % 2) + 1));
      await agent.waitFor(() => agent.accepted().length === 6);
      const listed = (await s.api('GET', `/v1/instances/${instanceId}/events?after=0`)).body;
      // Six messages in two chats: each chat's first message opened its conversation first.
      assert.equal(listed.events.length, 8);
      assert.equal(listed.events.filter((e: any) => e.type === 'message.received').length, 6);
      const opened = listed.events.filter((e: any) => e.type === 'conversation.opened');
      assert.equal(opened.length, 2);
      for (const o of opened) {
        const first = listed.events.find((e: any) => e.type === 'message.received' && e.conversation_id === o.conversation_id);
        assert.ok(Number(o.cursor) < Number(first.cursor), 'conversation.opened comes before its first message');
        assert.deepEqual(o.conversation, { id: o.conversation_id, status: 'open', mode: 'agent' });
      }
      const page = (await s.api('GET', `/v1/instances/${instanceId}/events?after=2&limit=2`)).body;
      assert.deepEqual(page.events.map((e: any) => e.id), listed.events.slice(2, 4).map((e: any) => e.id));
      assert.equal(page.next_cursor, listed.events[3].cursor);

      const h = { 'x-api-key': s.adminKey };
      const streamUrl = `${s.url}/v1/instances/${instanceId}/events/stream`;
      const all = await readSse(streamUrl, h, 8);
      assert.deepEqual(all.map((e) => e.data), listed.events, 'the stream carries the same envelopes');
      assert.deepEqual(all.map((e) => e.id), listed.events.map((e: any) => e.cursor));
      assert.ok(all.every((e) => e.event === 'message.received' || e.event === 'conversation.opened'));
      // Resume after the 6th; then a live event arrives on the open stream.
      const resumed = readSse(streamUrl, { ...h, 'last-event-id': all[5].id }, 3);
      await sleep(200);
      await send(await kit.valid(7));
      const r = await resumed;
      assert.deepEqual(r.map((e) => e.id), [all[6].id, all[7].id, String(Number(all[7].id) + 1)]);
      assert.equal(r[2].data.data.text, 'hello 7');
      // ?after= works like Last-Event-ID.
      const viaQuery = await readSse(`${streamUrl}?after=7`, h, 2);
      assert.deepEqual(viaQuery.map((e) => e.data.data.text), ['hello 6', 'hello 7']);
      // The agent saw the same event ids as the log.
      await agent.waitFor(() => agent.accepted().length === 7);
      const log = (await s.api('GET', `/v1/instances/${instanceId}/events?after=0`)).body.events;
      assert.deepEqual(agent.accepted().map((d) => d.id).sort(), log.filter((e: any) => e.type === 'message.received').map((e: any) => e.id).sort());
      await agent.waitFor(() => agent.conversationEvents.length === 2);
      assert.deepEqual(agent.conversationEvents.map((d) => d.id).sort(), opened.map((e: any) => e.id).sort(), 'conversation.opened reached the agent too');
    });

    test('the events API needs a key for that instance', async () => {
      const { instanceId } = await setup();
      assert.equal((await s.api('GET', `/v1/instances/${instanceId}/events`, undefined, null)).status, 401);
      assert.equal((await s.api('GET', `/v1/instances/${instanceId}/events/stream`, undefined, null)).status, 401);
      assert.equal((await s.api('GET', `/v1/instances/${instanceId}/deliveries/dead`, undefined, null)).status, 401);
    });
  });

  describe(`SSRF guard on agent_url on ${kind}`, () => {
    test('an agent_url naming a private address is refused at create and update (422)', async () => {
      const s = await startServer(kind);
      try {
        for (const url of ['http://127.0.0.1:8080/hook', 'http://10.1.2.3/hook', 'http://[::1]/x', 'http://169.254.169.254/latest', 'http://localhost:9/x']) {
          const r = await s.api('POST', '/v1/instances', { name: 'x', agent_url: url });
          assert.equal(r.status, 422, url);
          assert.deepEqual(r.body.detail[0].loc, ['body', 'agent_url']);
          assert.match(r.body.detail[0].msg, /SWITCHBOARD_ALLOW_PRIVATE_URLS=true/);
        }
        const ok = await s.api('POST', '/v1/instances', { name: 'x', agent_url: 'https://agent.example.com/hook' });
        assert.equal(ok.status, 201);
        assert.equal((await s.api('PATCH', `/v1/instances/${ok.body.id}`, { agent_url: 'http://192.168.1.1/' })).status, 422);
      } finally {
        await s.close();
      }
    });

    test('a private address reached at delivery time (DNS can change) is refused and dead-lettered with a clear error', async () => {
      const agent = await startFakeAgent();
      const s = await startServer(kind, { services: { scheduleMs: SCHEDULE } });
      try {
        const inst = await createInstance(s, 'https://agent.example.com/hook');
        // As if the public name now resolved to this machine: the connect-time guard must hold.
        await s.services.repos.instances.update(inst.id, { agent_url: agent.url });
        agent.secret = inst.signing_secret;
        const kit = await telegramKit({ s, instanceId: inst.id });
        assert.equal((await send(await kit.valid(1))).status, 200, 'the inbound event is still accepted and stored');
        const deadLetters: any[] = await waitUntil(async () => {
          const r = await s.api('GET', `/v1/instances/${inst.id}/deliveries/dead`);
          // The message's event, and the conversation.opened event before it.
          return r.body.count === 2 ? r.body.deliveries : undefined;
        }, 5000, 'the dead letters');
        for (const dead of deadLetters) {
          assert.match(dead.last_error, /agent_url refused/);
          assert.match(dead.last_error, /SWITCHBOARD_ALLOW_PRIVATE_URLS=true/);
          assert.equal(dead.attempts, 1, 'refused at once, not retried');
        }
        await sleep(200);
        assert.equal(agent.deliveries.length, 0, 'nothing reached the private address');
      } finally {
        await s.close();
        await agent.close();
      }
    });
  });
}
