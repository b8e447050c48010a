import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeGraph } from '../../../fakes/graph.js';
import type { FakeGraph } from '../../../fakes/graph.js';
import { metaCloudApi } from '../../../src/adapters/meta_cloud/api.js';
import { assertNoSecret, closedPortUrl, expectProviderError } from '../../provider-api/helpers.js';

describe('meta_cloud api client against the Graph fake', () => {
  let g: FakeGraph;
  const api = (over: { accessToken?: string; timeoutMs?: number; baseUrl?: string } = {}) =>
    metaCloudApi({ accessToken: over.accessToken ?? g.accessToken, baseUrl: over.baseUrl ?? g.baseUrl, timeoutMs: over.timeoutMs });

  before(async () => {
    g = await startFakeGraph();
  });
  after(() => g.close());

  it('sends text with reply context and preview flag', async () => {
    const r = await api().sendText({ phoneNumberId: g.phoneNumberId, to: '+49 151 12345678', body: 'hello', previewUrl: true, replyTo: 'wamid.in1' });
    assert.match(r.messageId, /^wamid\./);
    assert.equal(r.waId, '4915112345678');
    const sent = g.sentMessages('4915112345678')[0];
    assert.equal(sent.text, 'hello');
    assert.equal(sent.replyTo, 'wamid.in1');
    assert.equal(sent.payload.recipient_type, 'individual');
    assert.deepEqual(sent.payload.text, { body: 'hello', preview_url: true });
    const rec = g.requests.at(-1);
    assert.equal(rec?.path, `/v24.0/${g.phoneNumberId}/messages`);
  });

  it('sends media by link, templates, read receipts with typing', async () => {
    await api().sendMedia({ phoneNumberId: g.phoneNumberId, to: '4915100000001', type: 'document', link: 'https://example.com/a.pdf', caption: 'c', filename: 'a.pdf' });
    assert.deepEqual(g.sentMessages('4915100000001')[0].payload.document, { link: 'https://example.com/a.pdf', caption: 'c', filename: 'a.pdf' });
    await api().sendTemplate({ phoneNumberId: g.phoneNumberId, to: '4915100000001', name: 'hello_world', languageCode: 'en_US' });
    assert.equal(g.sentMessages('4915100000001')[1].type, 'template');
    await api().markRead({ phoneNumberId: g.phoneNumberId, messageId: 'wamid.in2', typing: true });
    assert.deepEqual(g.readReceipts().at(-1), { phoneNumberId: g.phoneNumberId, messageId: 'wamid.in2', typing: true });
  });

  it('looks up and downloads media', async () => {
    const id = g.addMedia(new Uint8Array([9, 8, 7]), 'image/jpeg');
    const info = await api().getMediaUrl(id);
    assert.equal(info.mime_type, 'image/jpeg');
    assert.equal(info.file_size, 3);
    assert.deepEqual([...(await api().downloadMedia(info.url))], [9, 8, 7]);
    await expectProviderError(api().getMediaUrl('123'), 'not_found');
  });

  it('enforces body length and messaging_product', async () => {
    const e = await expectProviderError(api().sendText({ phoneNumberId: g.phoneNumberId, to: '4915112345678', body: 'x'.repeat(4097) }), 'permanent');
    assert.equal(e.code, '100');
    const r = await fetch(`${g.baseUrl}/${g.phoneNumberId}/messages`, {
      method: 'POST', headers: { authorization: `Bearer ${g.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: '4915112345678', type: 'text', text: { body: 'x' } }),
    });
    assert.equal(r.status, 400);
    assert.match(JSON.stringify(await r.json()), /messaging_product is required/);
  });

  it('maps errors to ProviderError kinds', async () => {
    const auth = await expectProviderError(api({ accessToken: 'EAAwrong' }).sendText({ phoneNumberId: g.phoneNumberId, to: '4915112345678', body: 'x' }), 'auth');
    assert.equal(auth.code, '190');
    assertNoSecret(auth, 'EAAwrong');

    g.closeWindow('4915199999999');
    const win = await expectProviderError(api().sendText({ phoneNumberId: g.phoneNumberId, to: '4915199999999', body: 'late' }), 'permanent');
    assert.equal(win.code, '131047');
    assert.equal(win.windowClosed, true);
    // Templates still go through outside the window.
    await api().sendTemplate({ phoneNumberId: g.phoneNumberId, to: '4915199999999', name: 'hello_world', languageCode: 'en_US' });

    g.failNext({ status: 429 });
    const rl = await expectProviderError(api().sendText({ phoneNumberId: g.phoneNumberId, to: '4915112345678', body: 'x' }), 'rate_limited');
    assert.equal(rl.code, '130429');
    assert.ok((rl.retryAfterMs ?? 0) > 0);

    g.failNext({ status: 500 });
    await expectProviderError(api().sendText({ phoneNumberId: g.phoneNumberId, to: '4915112345678', body: 'x' }), 'retryable');

    g.failNext({ timeoutMs: 300 });
    await expectProviderError(api({ timeoutMs: 80 }).sendText({ phoneNumberId: g.phoneNumberId, to: '4915112345678', body: 'x' }), 'unknown_outcome');

    await expectProviderError(api().sendText({ phoneNumberId: '999', to: '4915112345678', body: 'x' }), 'not_found');
    await expectProviderError(api({ baseUrl: await closedPortUrl() }).sendText({ phoneNumberId: g.phoneNumberId, to: '4915112345678', body: 'x' }), 'retryable');
  });
});
