/** How stored messages become Chat Completions messages (roles, operator turns, images, what is left out). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chatMessages } from '../../src/core/bridges/chat-history.js';
import type { MessageRow } from '../../src/store/repos/inbox.js';

let n = 0;
function row(direction: 'in' | 'out', text: string | null, extra: Partial<MessageRow> & { author?: string } = {}): MessageRow {
  n++;
  return { id: `m${n}`, instance_id: 'i', channel_id: 'c', conversation_id: 'v', direction, provider_message_id: null, status: direction === 'in' ? 'received' : 'sent', text, content: '{}', error: null, idempotency_key: null, created_at: `2026-01-01T00:00:0${n}Z`, updated_at: '', ...extra } as MessageRow;
}

test('contact -> user, agent -> assistant, operator -> assistant named operator; system notes, failed and suppressed answers left out', () => {
  const rows = [
    row('in', 'Hi'),
    row('out', 'Hello! How can I help?'),
    row('out', 'never reached the person', { status: 'failed' }),
    row('out', 'Sam here, I will take it from now.', { author: JSON.stringify({ kind: 'operator', name: 'Sam' }) }),
    row('out', 'drafted while a human drove', { status: 'suppressed' }),
    row('out', 'handed off', { author: JSON.stringify({ kind: 'system' }) }),
    row('in', 'Thanks'),
  ];
  assert.deepEqual(chatMessages('Be brief.', rows), [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hi' },
    { role: 'assistant', content: 'Hello! How can I help?' },
    { role: 'assistant', name: 'operator', content: 'Sam here, I will take it from now.' },
    { role: 'user', content: 'Thanks' },
  ]);
});

test("the person's ready images become image_url parts (from media items, else the message content)", () => {
  const photo = row('in', 'look');
  const doc = row('in', null, { content: JSON.stringify({ attachments: [{ kind: 'image', status: 'ready', url: 'https://sb.example/v1/media/x?sig=1' }] }) });
  const media = new Map<string, unknown[]>([[photo.id, [{ kind: 'image', mime_type: 'image/png', status: 'ready', url: 'https://sb.example/v1/media/p?sig=2' }, { kind: 'image', status: 'failed', url: null }, { kind: 'document', status: 'ready', url: 'https://sb.example/d' }]]]);
  assert.deepEqual(chatMessages('', [photo, doc], media), [
    { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'https://sb.example/v1/media/p?sig=2' } }] },
    { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://sb.example/v1/media/x?sig=1' } }] },
  ]);
});
