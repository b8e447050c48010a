/** Small pieces the outbound end-to-end tests share. */
import assert from 'node:assert/strict';
import type { FakeAgent } from '../inbound/fake-agent.js';
import type { TestServer } from '../helpers/server.js';

export async function until<T>(fn: () => Promise<T | undefined | false | null> | T | undefined | false | null, what: string, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The instance's conversation whose key is `key` (waits for the inbound pipeline to create it). */
export function conversationByKey(s: TestServer, instanceId: string, key: string): Promise<{ id: string; key: string }> {
  return until(async () => (await s.api('GET', `/v1/instances/${instanceId}/conversations`)).body.conversations.find((c: any) => c.key === key), `the conversation ${key}`);
}

export async function messageView(s: TestServer, instanceId: string, id: string): Promise<any> {
  const r = await s.api('GET', `/v1/instances/${instanceId}/messages/${id}`);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

/** Waits until the message reaches `status` (or any of several). */
export function messageReaches(s: TestServer, instanceId: string, id: string, status: string | string[], timeoutMs = 10_000): Promise<any> {
  const want = Array.isArray(status) ? status : [status];
  return until(async () => {
    const m = await messageView(s, instanceId, id);
    return want.includes(m.status) ? m : undefined;
  }, `message ${id} to reach ${want.join('|')}`, timeoutMs);
}

export async function channelView(s: TestServer, instanceId: string, channelId: string): Promise<any> {
  return (await s.api('GET', `/v1/instances/${instanceId}/channels`)).body.channels.find((c: any) => c.id === channelId);
}

/** The accepted message.status event for our message `messageId` with status `status`. */
export function statusEvent(agent: FakeAgent, messageId: string, status: string, timeoutMs = 10_000): Promise<any> {
  return until(() => agent.accepted().find((d) => d.body?.type === 'message.status' && d.body.data?.message_id === messageId && d.body.data?.status === status), `the ${status} event of ${messageId}`, timeoutMs);
}

/** The message id of the agent's reply to the inbound event in conversation `conversationId`. */
export function replySent(agent: FakeAgent, conversationId: string | undefined, timeoutMs = 10_000): Promise<any> {
  return until(() => agent.accepted().find((d) => d.body?.type === 'message.status' && d.body.data?.status === 'sent' && (!conversationId || d.body.conversation_id === conversationId)), 'the sent status of the reply', timeoutMs);
}

/** POSTs to send a message; asserts 202 unless `expect` says otherwise. */
export async function send(s: TestServer, instanceId: string, conversationId: string, body: unknown, key?: string, expect = 202): Promise<any> {
  const r = await s.api('POST', `/v1/instances/${instanceId}/conversations/${conversationId}/messages`, body, undefined, key ? { 'idempotency-key': key } : {});
  assert.equal(r.status, expect, r.text);
  return r;
}

/** Moves the conversation's last inbound message back in time (closing WhatsApp's 24-hour window). */
export async function ageConversation(s: TestServer, conversationId: string, hours: number): Promise<void> {
  const at = new Date(Date.now() - hours * 3600_000).toISOString();
  await s.services.store.db.updateTable('conversations').set({ last_inbound_at: at }).where('id', '=', conversationId).execute();
}

/** A long Markdown answer: `n` paragraphs of `words` words each. */
export function longMarkdown(n: number, words: number): string {
  const para = 'word '.repeat(words).trim();
  return Array.from({ length: n }, (_, i) => `Paragraph ${i}: ${para}`).join('\n\n');
}

export const norm = (t: string) => t.replace(/\s+/g, ' ').trim();

/** The conversation id of the first accepted message.received event matching `pred`. */
export async function receivedConversation(agent: FakeAgent, pred: (data: any) => boolean, what = 'the message.received event'): Promise<string> {
  const d = await until(() => agent.accepted().find((x) => x.body?.type === 'message.received' && pred(x.body.data)), what);
  return d.body.conversation_id;
}

