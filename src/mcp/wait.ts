/**
 * Long-polling for people's new messages: reads the instance's event log after a cursor and,
 * when nothing is there, waits for the 'events' notification (or the timeout) and reads again.
 */
import type { Services } from '../core/services.js';

export interface WaitQuery {
  instanceId: string;
  conversationId?: string;
  /** Event cursor; undefined = from now on. */
  after?: number;
  timeoutMs: number;
  /** Aborted: stop waiting and answer with what there is. */
  signal?: AbortSignal;
}

export async function latestCursor(s: Services, instanceId: string): Promise<number> {
  const row = await s.repos.instances.get(instanceId);
  return Number(row?.event_seq ?? 0);
}

export async function waitForMessages(s: Services, q: WaitQuery): Promise<Record<string, unknown>> {
  let cursor = q.after ?? (await latestCursor(s, q.instanceId));
  const deadline = Date.now() + q.timeoutMs;
  for (;;) {
    const rows = await s.repos.events.after(q.instanceId, cursor, 200);
    const messages: Record<string, unknown>[] = [];
    for (const r of rows) {
      cursor = Number(r.seq);
      if (r.type !== 'message.received' || (q.conversationId && r.conversation_id !== q.conversationId)) continue;
      const e = JSON.parse(r.payload) as { id: string; conversation_id: string; channel_id: string; created_at: string; conversation?: unknown; data: Record<string, unknown> };
      const { raw: _raw, ...data } = e.data;
      messages.push({ event_id: e.id, cursor: String(r.seq), conversation_id: e.conversation_id, channel_id: e.channel_id, ...(e.conversation ? { conversation: e.conversation } : {}), created_at: e.created_at, ...data });
    }
    if (messages.length || rows.length === 200) return { messages, count: messages.length, next_cursor: String(cursor) };
    const left = deadline - Date.now();
    if (left <= 0 || q.signal?.aborted) return { messages, count: 0, next_cursor: String(cursor) };
    // Wake on a new event of this instance (any node, through LISTEN/NOTIFY), or re-read at the deadline.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.min(left, 5_000));
      const off = s.notifier.on('events', (instanceId) => {
        if (!instanceId || instanceId === q.instanceId) done();
      });
      q.signal?.addEventListener('abort', done, { once: true });
      function done() {
        clearTimeout(timer);
        off();
        q.signal?.removeEventListener('abort', done);
        resolve();
      }
    });
  }
}
