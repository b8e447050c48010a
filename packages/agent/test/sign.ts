/** Signs a body as Switchboard does (with the official standardwebhooks package). */
import { Webhook } from 'standardwebhooks';

export const SECRET = 'whsec_' + Buffer.from('a test signing secret, 32 bytes!').toString('base64');

export function signed(body: string, opts: { secret?: string; id?: string; at?: Date } = {}): Record<string, string> {
  const id = opts.id ?? 'evt_1';
  const at = opts.at ?? new Date();
  const signature = new Webhook(opts.secret ?? SECRET).sign(id, at, body);
  return { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature };
}

export function messageEvent(text = 'hi', extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: 'evt_1', type: 'message.received', instance_id: 'inst_1', channel_id: 'ch_1', conversation_id: 'conv_1', cursor: '7', created_at: new Date().toISOString(),
    channel: { type: 'telegram', provider: 'telegram', external_identifier: 'bot' },
    conversation: { id: 'conv_1', status: 'open', mode: 'agent' },
    data: { kind: 'message', message_id: 'msg_1', from: { id: '42', name: 'Ada' }, text },
    ...extra,
  });
}
