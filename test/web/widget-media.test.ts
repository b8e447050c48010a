/**
 * Files in the web chat, on the default SQLite store: a visitor attaches an image in Chromium
 * (allow-list and size cap checked in the widget and again by the server), the agent's event names
 * it, the bubble shows it from its signed link, and an answer's file shows on the visitor's side.
 * Uploads are the visitor's own: another visitor cannot attach them, a wrong type is 422, too big 413.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, type TestServer } from '../helpers/server.js';
import { startFakeAgent, type FakeAgent } from '../inbound/fake-agent.js';
import { hasChromium, LAUNCH, png, screenshotDir } from './helpers.js';

const SHOTS = screenshotDir();

describe('web chat files', { skip: !hasChromium() && 'chromium is not installed (/usr/bin/chromium)' }, () => {
  let s: TestServer;
  let agent: FakeAgent;
  let browser: Browser;
  let page: Page;
  let instanceId: string;
  let channelId: string;
  const image = png();

  before(async () => {
    agent = await startFakeAgent();
    agent.script = () => ({ json: {} });
    s = await startServer('sqlite', { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' } });
    const inst = await s.api('POST', '/v1/instances', { name: 'Files', agent_url: agent.url });
    instanceId = inst.body.id;
    agent.secret = inst.body.signing_secret;
    const c = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'web_chat', provider: 'web', external_identifier: 'files-site', config: { title: 'Files chat', max_upload_bytes: 64 * 1024 } });
    channelId = c.body.id;
    browser = await chromium.launch(LAUNCH);
    page = await browser.newPage({ viewport: { width: 1000, height: 720 } });
  });
  after(async () => {
    await browser?.close();
    await s?.close();
    await agent?.close();
  });

  const session = async () => (await s.api('POST', `/v1/webchat/${channelId}/session`, {}, null)).body;
  const upload = (v: { visitor_id: string; token: string }, body: Buffer, type: string, name = 'f') =>
    fetch(`${s.url}/v1/webchat/${channelId}/media?visitor_id=${encodeURIComponent(v.visitor_id)}&token=${encodeURIComponent(v.token)}&file_name=${name}`, { method: 'POST', headers: { 'content-type': type }, body: new Uint8Array(body) });

  test('the server: allow-listed types under the cap only; an upload is attachable by its visitor only, once', async () => {
    const v = await session();
    assert.deepEqual(v.uploads.max_bytes, 64 * 1024);
    assert.ok(v.uploads.types.includes('image/png') && !v.uploads.types.includes('image/svg+xml'));
    const svg = await upload(v, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'image/svg+xml');
    assert.equal(svg.status, 422);
    assert.match(JSON.stringify(await svg.json()), /cannot be sent here/);
    assert.equal((await upload(v, Buffer.alloc(65 * 1024, 1), 'image/png')).status, 413);
    assert.equal((await upload({ visitor_id: v.visitor_id, token: 'f'.repeat(64) }, image, 'image/png')).status, 403);
    const ok = await upload(v, image, 'image/png', 'dot.png');
    assert.equal(ok.status, 201);
    const item = await ok.json();
    assert.equal(item.kind, 'image');
    assert.equal(item.size, image.length);
    assert.equal(Buffer.compare(Buffer.from(await (await fetch(item.url)).arrayBuffer()), image), 0);
    // Another visitor cannot send it.
    const other = await session();
    const stolen = await s.api('POST', `/v1/webchat/${channelId}/messages`, { visitor_id: other.visitor_id, token: other.token, text: 'mine?', client_message_id: randomUUID(), attachments: [{ media_id: item.id }] }, null);
    assert.equal(stolen.status, 422, stolen.text);
    assert.deepEqual(stolen.body.detail[0].loc, ['body', 'attachments', 0, 'media_id']);
    // Nor through the channel's webhook directly, with their own valid signature (the raw
    // webhook URL refuses web channels: one gate, test/security/webchat-gate.test.ts).
    const body = JSON.stringify({ visitor_id: other.visitor_id, text: 'sneaky', client_message_id: randomUUID(), attachments: [{ media_id: item.id, kind: 'image' }] });
    const hook = await fetch(`${s.url}/v1/webhooks/${channelId}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-switchboard-visitor-signature': other.token }, body });
    assert.equal(hook.status, 404, String(hook.status));
    assert.equal((await s.services.repos.media.get(item.id))?.message_id, null, 'not bound to the other visitor’s message');
    // Its owner can, without text; then it is bound to that message.
    const sent = await s.api('POST', `/v1/webchat/${channelId}/messages`, { visitor_id: v.visitor_id, token: v.token, client_message_id: randomUUID(), attachments: [{ media_id: item.id }] }, null);
    assert.equal(sent.status, 202, sent.text);
    assert.equal(sent.body.message.attachments[0].id, item.id);
    const again = await s.api('POST', `/v1/webchat/${channelId}/messages`, { visitor_id: v.visitor_id, token: v.token, text: 'twice', client_message_id: randomUUID(), attachments: [{ media_id: item.id }] }, null);
    assert.equal(again.status, 422);
    assert.match(again.text, /already sent/);
    const empty = await s.api('POST', `/v1/webchat/${channelId}/messages`, { visitor_id: v.visitor_id, token: v.token, text: '', client_message_id: randomUUID() }, null);
    assert.equal(empty.status, 422);
  });

  test('in Chromium: a visitor attaches an image, sees it sent, the agent gets it; a wrong type is refused in the widget', async () => {
    await page.goto(`${s.url}/demo?channel=${channelId}`);
    await page.getByRole('button', { name: 'Open chat' }).click();
    await page.getByLabel('Your message').fill('first');
    await page.keyboard.press('Enter');
    const attach = page.getByRole('button', { name: 'Attach a file' });
    await attach.waitFor();
    const file = page.locator('#switchboard-chat input[type=file]');
    let uploads = 0;
    page.on('request', (r) => void (r.url().includes('/media?') && uploads++));
    await file.setInputFiles({ name: 'notes.exe', mimeType: 'application/x-msdownload', buffer: Buffer.from('MZ') });
    await page.locator('#switchboard-chat .status', { hasText: 'cannot be sent' }).waitFor();
    await file.setInputFiles({ name: 'big.png', mimeType: 'image/png', buffer: Buffer.alloc(70 * 1024, 1) });
    await page.locator('#switchboard-chat .status', { hasText: 'is larger than' }).waitFor();
    assert.equal(uploads, 0, 'refused before any upload');
    const uploaded = page.waitForResponse((r) => r.url().includes('/media?') && r.status() === 201);
    await file.setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: image });
    const mediaId = (await (await uploaded).json()).id as string;
    await page.getByRole('button', { name: 'Remove dot.png' }).waitFor();
    assert.equal(uploads, 1);
    await page.getByLabel('Your message').fill('here is a photo');
    await page.keyboard.press('Enter');
    const mine = page.locator('#switchboard-chat .msg.in', { hasText: 'here is a photo' });
    await mine.waitFor();
    const img = mine.locator('.files img');
    await img.waitFor();
    await page.waitForFunction(() => {
      const i = document.getElementById('switchboard-chat')?.shadowRoot?.querySelector('.msg.in .files img') as HTMLImageElement | null;
      return !!i && i.complete && i.naturalWidth === 24;
    });
    assert.equal(await page.getByRole('button', { name: 'Remove dot.png' }).count(), 0, 'chips cleared once sent');
    await agent.waitFor((ds) => ds.some((d) => d.body?.data?.text === 'here is a photo'));
    const ev = agent.accepted().find((d) => d.body?.data?.text === 'here is a photo')!.body;
    // The event carries the file as a ready media item on the first delivery, with a working link.
    const att = ev.data.attachments?.[0];
    assert.equal(att?.id, mediaId, JSON.stringify(ev.data));
    assert.equal(att.status, 'ready');
    assert.equal(Buffer.compare(Buffer.from(await (await fetch(att.url)).arrayBuffer()), image), 0);
    // The agent's key can also fetch it (a fresh signed link).

    const item = await s.api('GET', `/v1/instances/${instanceId}/media/${mediaId}`);
    assert.equal(item.status, 200, item.text);
    assert.equal(item.body.mime_type, 'image/png');
    assert.equal(Buffer.compare(Buffer.from(await (await fetch(item.body.url)).arrayBuffer()), image), 0);
    await page.screenshot({ path: `${SHOTS}widget-files.png` });
  });

  test('a file in an answer shows on the visitor’s side, and after a reload', async () => {
    const conv = (await s.api('GET', `/v1/instances/${instanceId}/conversations`)).body.conversations.find((c: any) => true).id;
    // The agent's upload, bound to a stored answer the way the outbound sender binds it.
    const up = await fetch(`${s.url}/v1/instances/${instanceId}/media?file_name=invoice.pdf`, { method: 'POST', headers: { 'x-api-key': s.adminKey, 'content-type': 'application/pdf' }, body: Buffer.from('%PDF-1.4\n%%EOF\n') });
    assert.equal(up.status, 201, await up.clone().text());
    const media = await up.json();
    const id = randomUUID();
    const now = new Date().toISOString();
    const repos = s.services.repos;
    await repos.inbox.insertMessage(repos.inbox.db, {
      id, instance_id: instanceId, channel_id: channelId, conversation_id: conv, direction: 'out', provider_message_id: null,
      status: 'delivered', text: 'Your invoice is attached.', content: '{}', error: null, idempotency_key: null, created_at: now, updated_at: now,
    } as any);
    await repos.media.attach(repos.media.db, [media.id], id);
    await s.services.widgets.publishMessage(conv, id);
    const answer = page.locator(`#switchboard-chat .msg.out[data-id="${id}"]`);
    const link = answer.locator('.files a', { hasText: 'invoice.pdf' });
    await link.waitFor({ timeout: 10_000 });
    assert.match((await link.getAttribute('href')) ?? '', /\/v1\/media\/[0-9a-f-]{36}\?expires=\d+&signature=/);
    await page.reload();
    await page.getByRole('button', { name: /Open chat/ }).click();
    await page.locator(`#switchboard-chat .msg.out[data-id="${id}"] .files a`, { hasText: 'invoice.pdf' }).waitFor();
    await page.locator('#switchboard-chat .msg.in .files img').waitFor();
  });
});
