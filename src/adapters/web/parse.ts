import type { InboundEvent } from '../../core/events.js';
import type { AdapterContext, RawRequest } from '../types.js';
import { PayloadError } from '../types.js';
import { parseJsonObject, str } from '../shared/guards.js';

const MAX_ID = 200;
const MAX_TEXT = 10_000;

function bounded(v: unknown, path: string, max: number): string {
  const s = str(v, path);
  if (s.length > max) throw new PayloadError(`${path} must be at most ${max} characters`);
  return s;
}

/** {visitor_id, text, client_message_id} from the widget; the client id makes resends idempotent. */
export async function parseWeb(req: RawRequest, ctx: AdapterContext): Promise<InboundEvent[]> {
  const body = parseJsonObject(req.body, 'web chat message');
  const visitorId = bounded(body.visitor_id, 'visitor_id', MAX_ID);
  const clientMessageId = bounded(body.client_message_id, 'client_message_id', MAX_ID);
  const text = bounded(body.text, 'text', MAX_TEXT);
  return [
    {
      kind: 'message',
      providerEventId: clientMessageId,
      providerMessageId: clientMessageId,
      occurredAt: new Date(ctx.now()).toISOString(),
      conversationKey: visitorId,
      from: { id: visitorId },
      text,
      raw: body,
    },
  ];
}
