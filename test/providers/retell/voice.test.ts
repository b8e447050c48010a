/**
 * Retell custom-LLM WebSocket, end to end over a real socket (the `ws` client playing Retell):
 * token check before the upgrade, call_details checked against the channel, streamed speakable
 * answers framed per response_id, barge-in (the old answer stops and its agent request is
 * aborted), ping_pong, end_call, the turns in the conversation's history, and Retell's call
 * webhooks (call_analyzed) reaching the agent.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Retell from 'retell-sdk';
import { WebSocket } from 'ws';
import { startServer, type TestServer } from '../../helpers/server.js';
import { storeKinds } from '../../helpers/stores.js';
import { createInstance, PRIVATE_OK, waitUntil } from '../../inbound/helpers.js';
import { startAgentStub, type AgentStub } from '../../voice/agent-stub.js';

interface Frame {
  response_type: string;
  response_id?: number;
  content?: string;
  content_complete?: boolean;
  end_call?: boolean;
  timestamp?: number;
  config?: Record<string, unknown>;
}

/** Plays Retell's side of one call. */
class RetellClient {
  frames: Frame[] = [];
  closed: { code: number; reason: string } | undefined;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => this.frames.push(JSON.parse(String(d)) as Frame));
    ws.on('close', (code, reason) => (this.closed = { code, reason: String(reason) }));
  }
  static open(url: string): Promise<RetellClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const c = new RetellClient(ws);
      ws.once('open', () => resolve(c));
      ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`refused ${res.statusCode}`), { status: res.statusCode })));
      ws.once('error', reject);
    });
  }
  send(frame: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(frame));
  }
  of(id: number): Frame[] {
    return this.frames.filter((f) => f.response_type === 'response' && f.response_id === id);
  }
  text(id: number): string {
    return this.of(id).map((f) => f.content ?? '').join('');
  }
  final(id: number): Frame | undefined {
    return this.of(id).find((f) => f.content_complete);
  }
  close(): void {
    this.ws.close();
  }
}

const transcript = (...turns: [string, string][]) => turns.map(([role, content]) => ({ role, content }));

for (const kind of storeKinds()) {
  describe(`Retell custom LLM socket on ${kind}`, () => {
    let s: TestServer;
    let agent: AgentStub;
    let instanceId: string;
    let channelId: string;
    let socketUrl: string;
    let webhookUrl: string;
    const apiKey = 'key_' + randomBytes(12).toString('hex');
    const agentId = 'agent_' + randomBytes(6).toString('hex');
    const number = `+1213${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    const details = (callId: string, over: Record<string, unknown> = {}) => ({ interaction_type: 'call_details', call: { call_id: callId, agent_id: agentId, from_number: '+14155550100', to_number: number, direction: 'inbound', ...over } });

    before(async () => {
      agent = await startAgentStub();
      s = await startServer(kind, { env: PRIVATE_OK });
      const inst = await createInstance(s, agent.url, 'voice');
      instanceId = inst.id;
      agent.secret = inst.signing_secret;
      const conn = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'retell', secrets: { api_key: apiKey } });
      assert.equal(conn.status, 201, conn.text);
      const ch = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'voice', provider: 'retell', external_identifier: number, connection_id: conn.body.id, config: { agent_id: agentId } });
      assert.equal(ch.status, 201, ch.text);
      channelId = ch.body.id;
      webhookUrl = ch.body.webhook_url;
      const urls = await s.api('GET', `/v1/instances/${instanceId}/channels/${channelId}/voice`);
      assert.equal(urls.status, 200, urls.text);
      socketUrl = urls.body.retell_llm_websocket_url;
      assert.match(socketUrl, new RegExp(`^ws://127\\.0\\.0\\.1:\\d+/v1/voice/retell/${channelId}/[A-Za-z0-9_-]{43}$`));
    });
    after(async () => {
      await s.close();
      await agent.close();
    });

    test('a wrong or missing token is refused before the upgrade', async () => {
      const base = socketUrl.slice(0, socketUrl.lastIndexOf('/'));
      const token = socketUrl.slice(socketUrl.lastIndexOf('/') + 1);
      // A token with its first character changed (never to itself: the random token may start with 'x').
      const wrong = (token[0] === 'x' ? 'y' : 'x') + token.slice(1);
      await assert.rejects(RetellClient.open(`${base}/${wrong}/call_bad`), (e: any) => e.status === 403);
      await assert.rejects(RetellClient.open(`${base}/call_bad?token=nope`), (e: any) => e.status === 403);
      await assert.rejects(RetellClient.open(`${base}/call_bad`), (e: any) => e.status === 401);
      await assert.rejects(RetellClient.open(`${base.replace(channelId, '00000000-0000-4000-8000-000000000000')}/${token}/call_bad`), (e: any) => e.status === 404);
      // The query form is accepted too.
      const ok = await RetellClient.open(`${base}/call_query?token=${token}`);
      await waitUntil(() => ok.frames.find((f) => f.response_type === 'config'), 5000, 'config');
      ok.close();
    });

    test('call_details for another agent close the socket', async () => {
      const c = await RetellClient.open(`${socketUrl}/call_other`);
      c.send(details('call_other', { agent_id: 'agent_someone_else' }));
      await waitUntil(() => c.closed, 5000, 'close');
      assert.equal(c.closed?.code, 1008);
    });

    test('a call: streamed speakable answers, barge-in, ping_pong, end_call, history', async () => {
      const callId = 'call_' + randomBytes(8).toString('hex');
      const c = await RetellClient.open(`${socketUrl}/${callId}`);
      const config = await waitUntil(() => c.frames.find((f) => f.response_type === 'config'), 5000, 'config frame');
      assert.equal(config.config?.call_details, true);
      c.send(details(callId));

      // ping_pong is echoed
      c.send({ interaction_type: 'ping_pong', timestamp: 1714560000123 });
      const pong = await waitUntil(() => c.frames.find((f) => f.response_type === 'ping_pong'), 5000, 'pong');
      assert.equal(pong.timestamp, 1714560000123);

      // Turn 1: a streamed Markdown answer, spoken clean.
      agent.script = () => ({ sse: ['**Sure**, I', ' can help', ' with that.', ' See [our site](https://example.com/help?x=1)', ' for more.'], chunkDelayMs: 40 });
      c.send({ interaction_type: 'update_only', transcript: transcript(['agent', 'Hi, how can I help?'], ['user', 'I need']) });
      c.send({ interaction_type: 'response_required', response_id: 1, transcript: transcript(['agent', 'Hi, how can I help?'], ['user', 'I need help with my order.']) });
      const final1 = await waitUntil(() => c.final(1), 5000, 'turn 1 complete');
      assert.equal(final1.end_call, undefined);
      const frames1 = c.of(1);
      assert.ok(frames1.length >= 3, `several frames for one answer, got ${frames1.length}`);
      assert.ok(frames1.slice(0, -1).every((f) => f.content_complete === false));
      assert.equal(c.text(1), 'Sure, I can help with that. See our site for more.');
      const req1 = agent.ofType('message.received')[0];
      assert.ok(req1.verified, 'the agent request is signed per Standard Webhooks');
      assert.equal(req1.body.data.text, 'I need help with my order.');
      assert.equal(req1.body.data.provider_event_id, `${callId}:1`);
      assert.equal(req1.body.data.raw.transcript.length, 2);
      assert.equal(req1.body.data.from.phone, '+14155550100');
      assert.equal(req1.body.channel.provider, 'retell');

      // Turn 2 is interrupted by turn 3 while it streams.
      agent.script = (r) =>
        r.body.data.provider_event_id.endsWith(':2')
          ? { sse: Array.from({ length: 30 }, (_, i) => `word${i} `), chunkDelayMs: 60 }
          : { sse: ['Okay,', ' cancelling it.'], chunkDelayMs: 10 };
      c.send({ interaction_type: 'response_required', response_id: 2, transcript: transcript(['user', 'Where is it?']) });
      await waitUntil(() => c.of(2).length > 0, 5000, 'turn 2 starts');
      c.send({ interaction_type: 'response_required', response_id: 3, transcript: transcript(['user', 'Where is it?'], ['agent', 'word0'], ['user', 'Actually, cancel it.']) });
      await waitUntil(() => c.final(3), 5000, 'turn 3 complete');
      const firstOf3 = c.frames.findIndex((f) => f.response_id === 3);
      assert.ok(c.frames.slice(firstOf3).every((f) => f.response_id !== 2), 'no frame for the superseded response after the new one starts');
      assert.equal(c.final(2), undefined);
      assert.equal(c.text(3), 'Okay, cancelling it.');
      await waitUntil(() => agent.ofType('message.received').find((r) => r.body.data.provider_event_id === `${callId}:2`)?.aborted, 5000, 'turn 2 request aborted');
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(c.frames.slice(firstOf3).every((f) => f.response_id !== 2));

      // Turn 4: the agent ends the call (JSON reply with end_call).
      agent.script = () => ({ json: { reply: { text: 'Thanks for calling, *goodbye*!', end_call: true } } });
      c.send({ interaction_type: 'response_required', response_id: 4, transcript: transcript(['user', 'That is all.']) });
      const final4 = await waitUntil(() => c.final(4), 5000, 'turn 4 complete');
      assert.equal(final4.end_call, true);
      assert.equal(c.text(4), 'Thanks for calling, goodbye!');
      c.close();

      // History: every utterance and every answer, in order.
      const conv = await waitUntil(async () => (await s.api('GET', `/v1/instances/${instanceId}/conversations`)).body.conversations.find((x: any) => x.key === callId), 5000, 'conversation');
      const msgs = (await s.api('GET', `/v1/instances/${instanceId}/conversations/${conv.id}/messages`)).body.messages;
      const seen = msgs.map((m: any) => `${m.direction}:${m.status}:${m.text}`);
      assert.deepEqual(seen.filter((x: string) => x.startsWith('inbound:')), ['inbound:received:I need help with my order.', 'inbound:received:Where is it?', 'inbound:received:Actually, cancel it.', 'inbound:received:That is all.']);
      assert.ok(seen.includes('outbound:delivered:**Sure**, I can help with that. See [our site](https://example.com/help?x=1) for more.'));
      assert.ok(seen.includes('outbound:delivered:Okay, cancelling it.'));
      assert.ok(seen.includes('outbound:delivered:Thanks for calling, *goodbye*!'));
      assert.ok(msgs.some((m: any) => m.direction === 'outbound' && m.status === 'sent' && m.content.voice.interrupted === true), 'the interrupted answer is kept as interrupted');
      // Delivered in-process only: no queued delivery of the turns.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(agent.ofType('message.received').length, 4);
    });

    test('SSE end_call, and an agent failure is apologised for', async () => {
      const callId = 'call_' + randomBytes(8).toString('hex');
      const c = await RetellClient.open(`${socketUrl}/${callId}`);
      c.send(details(callId));
      agent.script = () => ({ sse: ['Goodbye.'], sseTail: ['data: {"end_call":true}\n\n'] });
      c.send({ interaction_type: 'response_required', response_id: 1, transcript: transcript(['user', 'bye']) });
      const f1 = await waitUntil(() => c.final(1), 5000, 'final');
      assert.equal(f1.end_call, true);
      assert.equal(c.text(1), 'Goodbye.');
      agent.script = () => ({ status: 500, json: {} });
      c.send({ interaction_type: 'reminder_required', response_id: 2, transcript: transcript(['user', 'bye'], ['agent', 'Goodbye.']) });
      const f2 = await waitUntil(() => c.final(2), 5000, 'final 2');
      assert.match(f2.content ?? '', /Sorry/);
      c.close();
    });

    test("Retell's call webhooks open and close the conversation; call_analyzed reaches the agent", async () => {
      const callId = 'call_' + randomBytes(8).toString('hex');
      const call = { call_id: callId, agent_id: agentId, from_number: '+14155550100', to_number: number, direction: 'inbound', start_timestamp: Date.now() - 60_000 };
      const post = async (event: string, extra: Record<string, unknown> = {}) => {
        const body = JSON.stringify({ event, call: { ...call, ...extra } });
        const r = await fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-retell-signature': await Retell.sign(body, apiKey) }, body });
        assert.equal(r.status, 200, await r.text());
      };
      agent.script = () => ({ json: {} });
      await post('call_started');
      const c = await RetellClient.open(`${socketUrl}/${callId}`);
      c.send(details(callId));
      agent.script = () => ({ sse: ['Hello!'] });
      c.send({ interaction_type: 'response_required', response_id: 1, transcript: transcript(['user', 'hi']) });
      await waitUntil(() => c.final(1), 5000, 'answer');
      c.close();
      await post('call_ended', { end_timestamp: Date.now(), disconnection_reason: 'user_hangup' });
      await post('call_analyzed', { end_timestamp: Date.now(), call_analysis: { call_summary: 'The caller said hi.', user_sentiment: 'Positive' } });
      await agent.waitFor(() => agent.ofType('call.analyzed').some((r) => r.body.data.call_id === callId), 10_000);
      const analyzed = agent.ofType('call.analyzed').find((r) => r.body.data.call_id === callId)!;
      assert.equal(analyzed.body.data.summary, 'The caller said hi.');
      assert.equal(analyzed.body.data.sentiment, 'Positive');
      assert.ok(analyzed.verified);
      const started = agent.ofType('call.started').find((r) => r.body.data.call_id === callId)!;
      const turn = agent.ofType('message.received').find((r) => r.body.data.provider_event_id === `${callId}:1`)!;
      assert.equal(turn.body.conversation_id, started.body.conversation_id, 'socket turns and call webhooks share the conversation');
      assert.equal(analyzed.body.conversation_id, started.body.conversation_id);
      assert.ok(agent.ofType('call.ended').some((r) => r.body.data.call_id === callId));
    });
  });
}
