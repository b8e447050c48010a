/**
 * What happened on an instance, for agents and operators: the event log after a cursor (JSON or a
 * server-sent-events stream) and dead-lettered deliveries with replay (conversations are in
 * routes/conversations.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../core/services.js';
import { NotFound } from '../../errors.js';
import { isConnectionError } from '../../store/errors.js';
import { eventEnvelopeSchema } from '../envelope-schema.js';
import { defineRoute } from '../route.js';
import { openSse } from '../sse.js';
import { instancePath } from '../schemas.js';
import { int, model, uuid } from '../validation/fields.js';

const eventsQuery = model({
  after: { field: int({ ge: 0, description: 'Cursor: return events after this one (0 = from the start).' }), default: () => 0 },
  limit: { field: int({ ge: 1, le: 500 }), default: () => 100 },
});
const deliveryPath = model({ instance_id: { field: uuid(), required: true }, delivery_id: { field: int({ ge: 1 }), required: true } });

const envelopeSchema = { type: 'object', additionalProperties: true };
const obj = (props: Record<string, unknown>) => ({ type: 'object', properties: props });

export function eventRoutes(app: FastifyInstance, s: Services): void {
  const tags = ['Events'];

  defineRoute(app, {
    method: 'GET', url: '/v1/instances/:instance_id/events', summary: 'List events after a cursor', tags,
    params: instancePath, query: eventsQuery,
    responses: { 200: obj({ events: { type: 'array', items: eventEnvelopeSchema }, next_cursor: { type: 'string' } }) },
    async handler({ principal, params, query }) {
      await s.instances.require(principal, params.instance_id);
      const rows = await s.repos.events.after(params.instance_id, query.after, query.limit);
      const events = rows.map((r) => JSON.parse(r.payload) as unknown);
      return { events, next_cursor: String(rows.length ? rows[rows.length - 1].seq : query.after) };
    },
  });

  // Server-sent events: each event as `id: <cursor>`, `event: <type>`, `data: <envelope>`. Resumes
  // from Last-Event-ID (or ?after=), so a reconnecting client neither loses nor repeats events.
  defineRoute(app, {
    method: 'GET', url: '/v1/instances/:instance_id/events/stream', summary: 'Stream events (server-sent events)', tags,
    params: instancePath, query: eventsQuery,
    responses: { 200: { type: 'string', description: 'text/event-stream' } },
    async handler({ principal, params, query, req, reply }) {
      await s.instances.require(principal, params.instance_id);
      const last = Number(req.headers['last-event-id']);
      let cursor = Number.isSafeInteger(last) && last >= 0 ? last : query.after;
      const sse = openSse(reply);
      let closed = false;
      let wake: (() => void) | undefined;
      const off = s.notifier.on('events', (instanceId) => {
        if (!instanceId || instanceId === params.instance_id) wake?.();
      });
      req.raw.on('close', () => {
        closed = true;
        wake?.();
      });
      // Deleting the key ends the stream at once, on whichever node holds it (api-keys.ts).
      const release = s.apiKeys.holdOpen(principal, () => {
        closed = true;
        wake?.();
      });
      try {
        while (!closed) {
          let rows;
          try {
            rows = await s.repos.events.after(params.instance_id, cursor, 200);
          } catch (err) {
            if (!isConnectionError(err)) throw err;
            // The database is away (restart, cut connection): keep the stream and read again
            // shortly. Ending it would not help: an EventSource that reconnects to a 503 gives up.
            sse.comment('database unavailable, retrying');
            await new Promise<void>((resolve) => {
              const t = setTimeout(resolve, 2_000);
              wake = () => {
                clearTimeout(t);
                resolve();
              };
            });
            wake = undefined;
            continue;
          }
          if (closed) break; // revoked while reading: not one more event
          for (const r of rows) {
            sse.event({ id: r.seq ?? undefined, event: r.type, data: r.payload });
            cursor = Number(r.seq);
          }
          if (rows.length === 200) continue;
          // Wait for a notification, with a heartbeat (and a re-read, covering a lost notification).
          const timedOut = await new Promise<boolean>((resolve) => {
            const t = setTimeout(() => resolve(true), 15_000);
            wake = () => {
              clearTimeout(t);
              resolve(false);
            };
          });
          wake = undefined;
          if (timedOut && !closed) sse.comment('keep-alive');
        }
      } finally {
        off();
        release();
        sse.end();
      }
    },
  });

  defineRoute(app, {
    method: 'GET', url: '/v1/instances/:instance_id/deliveries/dead', summary: 'Dead-lettered agent deliveries', tags: ['Deliveries'],
    params: instancePath,
    responses: { 200: obj({ deliveries: { type: 'array', items: envelopeSchema }, count: { type: 'integer' } }) },
    async handler({ principal, params }) {
      await s.instances.require(principal, params.instance_id);
      const deliveries = (await s.repos.jobs.dead(params.instance_id, 'deliver')).map((j) => ({ id: Number(j.seq), event_id: j.ref_id, attempts: j.attempts, last_error: j.last_error, created_at: j.created_at, updated_at: j.updated_at }));
      return { deliveries, count: deliveries.length };
    },
  });

  defineRoute(app, {
    method: 'POST', url: '/v1/instances/:instance_id/deliveries/:delivery_id/replay', summary: 'Replay a dead-lettered delivery', tags: ['Deliveries'],
    params: deliveryPath,
    responses: { 202: obj({ status: { type: 'string' } }) },
    async handler({ principal, params }) {
      await s.instances.require(principal, params.instance_id);
      if (!(await s.repos.jobs.replay(params.instance_id, params.delivery_id, new Date().toISOString()))) throw new NotFound('Dead delivery not found');
      s.runner.wake();
      return { status: 'queued' };
    },
  });
}
