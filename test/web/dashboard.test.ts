/**
 * The operator dashboard in Chromium on the default SQLite store: sign in with an API key, create a
 * channel (client-side checks keep the server's other errors visible, a 422 shows next to its field,
 * no blank channel is sent), copy buttons, the live feed, dead-letter replay, the inbox (preview,
 * search, unread, author on every message, Markdown rendered safely, operator reply), connections
 * with the provider's secret fields, API keys shown once, and scoped keys.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startServer, type TestServer } from '../helpers/server.js';
import { startFakeAgent, type FakeAgent } from '../inbound/fake-agent.js';
import { hasChromium, LAUNCH, png, screenshotDir, waitUntil } from './helpers.js';

const SHOTS = screenshotDir();

describe('dashboard in Chromium', { skip: !hasChromium() && 'chromium is not installed (/usr/bin/chromium)' }, () => {
  let s: TestServer;
  let agent: FakeAgent;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let instanceId: string;
  let agentUp = false;
  let channelId: string;

  before(async () => {
    agent = await startFakeAgent();
    // Down at first: with no retries scheduled, the first failure dead-letters the delivery.
    agent.script = () => (agentUp ? { json: {} } : { status: 500 });
    s = await startServer('sqlite', { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' }, services: { scheduleMs: [] } });
    const inst = await s.api('POST', '/v1/instances', { name: 'Support bot', agent_url: agent.url });
    instanceId = inst.body.id;
    agent.secret = inst.body.signing_secret;
    await s.api('POST', '/v1/instances', { name: 'Sales bot' });
    browser = await chromium.launch(LAUNCH);
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: s.url });
    page = await context.newPage();
  });
  after(async () => {
    await browser?.close();
    await s?.close();
    await agent?.close();
  });

  test('a wrong key is refused; the operator key signs in and lists instances', async () => {
    await page.goto(`${s.url}/`);
    await page.getByLabel('API key').fill('sb_wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That API key was refused.').waitFor();
    await page.getByLabel('API key').fill(s.adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Instances' }).getByRole('button', { name: 'Support bot' }).waitFor();
    await page.getByRole('button', { name: 'Sales bot' }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('switchboard-api-key')), s.adminKey);
  });

  test('creating a channel: checks here keep the server’s errors on other fields; a 422 sits at its field; no blank channel', async () => {
    await page.getByRole('button', { name: 'Support bot' }).click();
    await page.getByRole('tab', { name: 'Channels' }).click();
    const form = page.getByRole('form', { name: 'Add channel' });
    // Channel types and providers are the server's (GET /v1/providers), filtered by type.
    const catalog = (await s.api('GET', '/v1/providers')).body.providers as { name: string; display_name: string; channel_types: string[] }[];
    assert.deepEqual(await form.getByLabel('Channel type').locator('option').allTextContents(), [...new Set(catalog.flatMap((p) => p.channel_types))]);
    await form.getByLabel('Channel type').selectOption('sms');
    assert.deepEqual(await form.getByLabel('Provider', { exact: true }).locator('option').allTextContents(), catalog.filter((p) => p.channel_types.includes('sms')).map((p) => p.display_name));
    await form.getByLabel('Channel type').selectOption('web_chat');
    await form.getByLabel('Provider', { exact: true }).selectOption('web');
    await form.getByLabel('External identifier').fill('x'.repeat(300));
    await form.getByLabel('Webhook secret').fill('s'.repeat(300));
    await form.getByRole('button', { name: 'Create channel' }).click();
    const identErr = form.locator('[data-error-for="external_identifier"]');
    const secretErr = form.locator('[data-error-for="webhook_secret"]');
    await identErr.filter({ hasText: 'String should have at most 255 characters' }).waitFor();
    await secretErr.filter({ hasText: 'String should have at most 256 characters' }).waitFor();
    assert.equal(await form.getByLabel('External identifier').getAttribute('aria-invalid'), 'true');
    // A blank identifier and broken JSON are caught here — and the server's word on the secret stays.
    let posts = 0;
    page.on('request', (r) => void (r.method() === 'POST' && r.url().endsWith('/channels') && posts++));
    await form.getByLabel('External identifier').fill('   ');
    await form.getByLabel('Config (JSON)').fill('{"title": ');
    await form.getByRole('button', { name: 'Create channel' }).click();
    await identErr.filter({ hasText: 'Enter the identifier the provider knows this channel by.' }).waitFor();
    assert.match((await form.locator('[data-error-for="config"]').textContent()) ?? '', /^Not valid JSON/);
    assert.match((await secretErr.textContent()) ?? '', /at most 256 characters/);
    assert.equal(posts, 0, 'nothing was sent');
    await form.screenshot({ path: `${SHOTS}dashboard-validation.png` });
    // Valid JSON the server refuses (an unknown config.turns mode): its reason sits under the config.
    await form.getByLabel('External identifier').fill('support-site');
    await form.getByLabel('Webhook secret').fill('');
    await form.getByLabel('Config (JSON)').fill('{"turns": "bursts"}');
    await form.getByRole('button', { name: 'Create channel' }).click();
    await form.locator('[data-error-for="config"]').filter({ hasText: "Input should be 'queue', 'burst' or 'supersede'" }).waitFor();
    assert.equal(posts, 1);
    // Fixed: created, and the errors are gone.
    await form.getByLabel('Config (JSON)').fill('{"allowed_origins": ["https://support.example"], "title": "Support", "turns": "queue"}');
    await form.getByRole('button', { name: 'Create channel' }).click();
    const row = page.locator('tr', { hasText: 'support-site' });
    await row.waitFor();
    assert.equal(posts, 2);
    const listed = (await s.api('GET', `/v1/instances/${instanceId}/channels`)).body.channels;
    assert.deepEqual(listed.map((c: any) => c.external_identifier), ['support-site'], 'one channel, never a blank one');
    channelId = listed[0].id;
    assert.match((await row.textContent()) ?? '', /pending/);
    const hook = await row.getByRole('textbox', { name: /Webhook URL/ }).inputValue();
    assert.match(hook, new RegExp(`^${s.url}/v1/webhooks/[0-9a-f-]{36}$`));
    assert.match(await row.getByRole('textbox', { name: /Embed code/ }).inputValue(), /<script src=".*\/widget\.js" data-channel="[0-9a-f-]{36}" async><\/script>/);
    // Copy buttons put the value on the clipboard.
    await row.getByRole('button', { name: /^Copy webhook URL/ }).click();
    await row.getByRole('button', { name: /^Copy webhook URL.*: copied$/ }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), hook);
    // Disable and enable again.
    await row.getByRole('button', { name: 'Disable' }).click();
    await page.locator('tr', { hasText: 'support-site' }).getByText('disabled').waitFor();
    await page.locator('tr', { hasText: 'support-site' }).getByRole('button', { name: 'Enable' }).click();
    await page.locator('tr', { hasText: 'support-site' }).getByRole('button', { name: 'Disable' }).waitFor();
  });

  test('a visitor message arrives in the live feed; its failed delivery is dead-lettered and replayed', async () => {
    await page.getByRole('tab', { name: 'Live events' }).click();
    await waitUntil(async () => (await page.locator('.live.on').count()) > 0, 5000, 'feed connected');
    const v = (await s.api('POST', `/v1/webchat/${channelId}/session`, {}, null)).body;
    const sent = await s.api('POST', `/v1/webchat/${channelId}/messages`, { visitor_id: v.visitor_id, token: v.token, text: 'Where is my order?', client_message_id: randomUUID() }, null);
    assert.equal(sent.status, 202, sent.text);
    await page.locator('.feed li', { hasText: 'Where is my order?' }).waitFor({ timeout: 5000 });
    assert.match((await page.locator('.feed li').first().textContent()) ?? '', /message\.received/);

    await page.getByRole('tab', { name: 'Channels' }).click();
    await page.locator('tr', { hasText: 'support-site' }).getByText('active').waitFor();

    await agent.waitFor((ds) => ds.length >= 1);
    await page.getByRole('tab', { name: 'Dead deliveries' }).click();
    await waitUntil(async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      return (await page.locator('tr[data-delivery-id]').count()) === 1;
    }, 10_000, 'a dead delivery listed');
    assert.match((await page.locator('tr[data-delivery-id]').textContent()) ?? '', /HTTP 500/);
    agentUp = true;
    await page.getByRole('button', { name: 'Replay' }).click();
    await page.getByText(/queued again/).waitFor();
    await agent.waitFor((ds) => ds.some((d) => d.body?.data?.text === 'Where is my order?' && ds.filter((x) => x.id === d.id).length >= 2));
    await waitUntil(async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      return (await page.locator('tr[data-delivery-id]').count()) === 0;
    }, 10_000, 'dead list empty after replay');
  });

  test('the inbox: preview, unread, search; authors on messages; Markdown rendered safely; the operator answers', async () => {
    // A second visitor, so search has something to leave out.
    const v2 = (await s.api('POST', `/v1/webchat/${channelId}/session`, {}, null)).body;
    await s.api('POST', `/v1/webchat/${channelId}/messages`, { visitor_id: v2.visitor_id, token: v2.token, text: 'Do you ship to Norway?', client_message_id: randomUUID() }, null);
    const convs = (await s.api('GET', `/v1/instances/${instanceId}/conversations`)).body.conversations;
    const first = convs.find((c: any) => c.participant?.id !== v2.visitor_id && c.contact?.id !== v2.visitor_id) ?? convs[0];
    // An agent answer in Markdown, with markup that must stay text.
    const md = 'Your order **#123** ships *tomorrow*:\n\n- track it [here](https://track.example/123)\n- or [this](javascript:alert(1))\n\n`code` and <img src=x onerror="window.pwned=1">';
    const r = await s.api('POST', `/v1/instances/${instanceId}/conversations/${first.id}/messages`, { text: md }, undefined, { 'idempotency-key': randomUUID() });
    assert.equal(r.status, 202, r.text);

    await page.getByRole('tab', { name: 'Inbox' }).click();
    const items = page.locator('[data-conversation-id]');
    await waitUntil(async () => (await items.count()) === 2, 10_000, 'two conversations listed');
    const item = page.locator(`[data-conversation-id="${first.id}"]`);
    const other = page.locator('[data-conversation-id]', { hasText: 'Do you ship to Norway?' });
    await other.locator('.preview', { hasText: 'Do you ship to Norway?' }).waitFor();
    assert.match((await other.textContent()) ?? '', /web_chat · support-site/);
    assert.equal(await item.locator('.dot').count(), 1, 'unread before it is opened');
    await page.getByRole('searchbox', { name: 'Search conversations' }).fill('norway');
    await waitUntil(async () => (await items.count()) === 1, 5000, 'search narrows the list');
    await page.getByRole('searchbox', { name: 'Search conversations' }).fill('');
    await item.click();
    const list = page.locator('.msgs');
    await list.locator('li.inbound.contact', { hasText: 'Where is my order?' }).waitFor();
    const answer = list.locator('li.outbound', { hasText: 'ships' });
    await answer.waitFor();
    assert.equal(await answer.locator('.author').textContent(), 'Agent');
    assert.equal(await answer.locator('strong', { hasText: '#123' }).count(), 1);
    assert.equal(await answer.locator('em', { hasText: 'tomorrow' }).count(), 1);
    assert.equal(await answer.locator('li').count(), 2);
    assert.equal(await answer.locator('a[href="https://track.example/123"][rel~="noopener"]').count(), 1);
    assert.equal(await answer.locator('a').count(), 1, 'the javascript: link is text, not a link');
    assert.equal(await answer.locator('img').count(), 0);
    assert.match((await answer.locator('.body').textContent()) ?? '', /<img src=x onerror="window.pwned=1">/);
    assert.equal(await page.evaluate(() => (window as any).pwned), undefined);
    assert.equal(await item.locator('.dot').count(), 0, 'read once open');

    await page.getByRole('textbox', { name: 'Your name' }).fill('Sam');
    await page.getByRole('textbox', { name: 'Your name' }).press('Tab');
    await page.locator('.as-name', { hasText: 'as Sam' }).waitFor();
    await page.getByRole('textbox', { name: 'Reply' }).fill('');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.locator('[data-error-for="text"]', { hasText: 'Write something first.' }).waitFor();
    await page.getByRole('textbox', { name: 'Reply' }).fill('It ships **tomorrow**.');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const out = list.locator('li.outbound', { hasText: 'It ships tomorrow.' });
    await out.waitFor();
    await out.locator('.badge.delivered').waitFor({ timeout: 10_000 });
    await page.screenshot({ path: `${SHOTS}dashboard-conversation.png` });
  });

  test('media in a conversation: the visitor’s image shows inline from its signed link', async () => {
    const v = (await s.api('POST', `/v1/webchat/${channelId}/session`, {}, null)).body;
    const image = png();
    const up = await fetch(`${s.url}/v1/webchat/${channelId}/media?visitor_id=${encodeURIComponent(v.visitor_id)}&token=${v.token}&file_name=photo.png`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(image) });
    assert.equal(up.status, 201);
    const item = await up.json();
    const sent = await s.api('POST', `/v1/webchat/${channelId}/messages`, { visitor_id: v.visitor_id, token: v.token, text: 'photo attached', client_message_id: randomUUID(), attachments: [{ media_id: item.id }] }, null);
    assert.equal(sent.status, 202, sent.text);
    // The history API lists the message's attachments (media items with signed links).
    await page.getByRole('tab', { name: 'Inbox' }).click();
    await page.locator('[data-conversation-id]', { hasText: 'photo attached' }).click();
    const fig = page.locator('.msgs li.contact figure.media.image');
    await fig.waitFor();
    assert.match((await fig.locator('figcaption').textContent()) ?? '', /photo\.png · image\/png, 86 B|image\/png/);
    await page.waitForFunction(() => {
      const i = document.querySelector('.msgs figure.media.image img') as HTMLImageElement | null;
      return !!i && i.complete && i.naturalWidth === 24;
    });
  });

  test('agent settings: a bad agent_url is shown at its field; the signing secret rotates', async () => {
    await page.getByRole('tab', { name: 'Agent settings' }).click();
    const form = page.getByRole('form', { name: 'Agent settings' });
    await form.getByLabel('Agent URL').fill('ftp://nope');
    await form.getByRole('button', { name: 'Save' }).click();
    await form.locator('[data-error-for="agent_url"]').filter({ hasText: "URL scheme should be 'http' or 'https'" }).waitFor();
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Rotate signing secret' }).click();
    const secret = await page.locator('.secret').textContent();
    assert.match(secret ?? '', /^whsec_/);
    await page.getByRole('tab', { name: 'Channels' }).click();
    await page.locator('tr', { hasText: 'support-site' }).waitFor();
    await page.screenshot({ path: `${SHOTS}dashboard.png` });
  });

  test('connections: the provider’s own secret fields, required ones checked; secrets never shown back', async () => {
    await page.getByRole('tab', { name: 'Connections' }).click();
    const form = page.getByRole('form', { name: 'Add connection' });
    await form.getByLabel('Provider').selectOption('telegram');
    await form.getByLabel('Name').fill('Support bot account');
    await form.getByRole('button', { name: 'Add connection' }).click();
    const tokenErr = form.locator('[data-error-for="secrets.bot_token"]');
    await tokenErr.filter({ hasText: 'bot_token is required' }).waitFor();
    await form.getByLabel('bot_token').fill('123:ABC-secret');
    await form.getByRole('button', { name: 'Add connection' }).click();
    const row = page.locator('tr[data-account-id]', { hasText: 'Support bot account' });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /bot_token/);
    assert.doesNotMatch(await page.content(), /123:ABC-secret/);
    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No connections yet.').waitFor();
  });

  test('platform credentials: required secrets checked here, the server’s errors shown, secrets never shown back', async () => {
    await page.getByRole('button', { name: 'Platform credentials' }).click();
    const form = page.getByRole('form', { name: 'Add credential' });
    await form.getByLabel('Provider').selectOption('telegram');
    await form.getByLabel('Name').fill('Shared bot');
    // Checked here: the missing token and settings that are not an object, both at once, nothing sent.
    let posts = 0;
    const count = (r: import('playwright-core').Request) => void (r.method() === 'POST' && r.url().endsWith('/v1/credentials') && posts++);
    page.on('request', count);
    await form.getByLabel('Settings (JSON)').fill('[1]');
    await form.getByRole('button', { name: 'Add credential' }).click();
    await form.locator('[data-error-for="secrets.bot_token"]', { hasText: 'bot_token is required' }).waitFor();
    await form.locator('[data-error-for="settings"]', { hasText: 'Settings must be a JSON object.' }).waitFor();
    assert.equal(posts, 0);
    // The server's own word (an api_base_url that is no URL) sits at its field...
    await form.getByLabel('Settings (JSON)').fill('{"api_base_url": "not a url"}');
    await form.getByLabel('bot_token').fill('987:XYZ-platform-secret');
    await form.getByRole('button', { name: 'Add credential' }).click();
    const settingsErr = form.locator('[data-error-for="settings"]');
    await settingsErr.filter({ hasText: 'Input should be a valid URL' }).waitFor();
    assert.equal(posts, 1);
    assert.equal(await form.locator('[data-error-for="secrets.bot_token"]').textContent(), '');
    // ...and stays while a check made here fails on another field.
    await form.getByLabel('bot_token').fill('');
    await form.getByRole('button', { name: 'Add credential' }).click();
    await form.locator('[data-error-for="secrets.bot_token"]', { hasText: 'bot_token is required' }).waitFor();
    assert.match((await settingsErr.textContent()) ?? '', /Input should be a valid URL/);
    assert.equal(posts, 1);
    await form.getByLabel('bot_token').fill('987:XYZ-platform-secret');
    await form.getByLabel('Settings (JSON)').fill('{}');
    await form.getByRole('button', { name: 'Add credential' }).click();
    const row = page.locator('tr[data-account-id]', { hasText: 'Shared bot' });
    await row.waitFor();
    page.off('request', count);
    assert.match((await row.textContent()) ?? '', /bot_token/);
    assert.doesNotMatch(await page.content(), /XYZ-platform-secret/);
    const listed = (await s.api('GET', '/v1/credentials')).body.credentials as any[];
    assert.deepEqual(listed.map((c) => c.name), ['Shared bot']);
    assert.doesNotMatch(JSON.stringify(listed), /XYZ-platform-secret/);
    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No credentials yet.').waitFor();
    assert.equal((await s.api('GET', '/v1/credentials')).body.credentials.length, 0);
  });

  test('API keys: created with a scope, shown once with a copy button, revoked', async () => {
    await page.getByRole('button', { name: 'API keys' }).click();
    const form = page.getByRole('form', { name: 'Create API key' });
    await form.getByRole('button', { name: 'Create key' }).click();
    await form.locator('[data-error-for="name"]', { hasText: 'Give the key a name.' }).waitFor();
    await form.locator('[data-error-for="instance_ids"]', { hasText: 'Pick at least one instance.' }).waitFor();
    await form.getByLabel('Name').fill('support agent');
    await form.getByLabel('Support bot').check();
    await form.getByRole('button', { name: 'Create key' }).click();
    const once = page.locator('.once');
    await once.waitFor();
    const key = ((await once.locator('.secret').textContent()) ?? '').trim();
    assert.match(key, /^sb_/);
    await once.getByRole('button', { name: /^Copy/ }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key);
    const row = page.locator('tr[data-key-id]', { hasText: 'support agent' });
    assert.match((await row.textContent()) ?? '', /Support bot/);
    await page.screenshot({ path: `${SHOTS}dashboard-api-keys.png` });
    // Shown once: a fresh view lists the key without it.
    await page.getByRole('button', { name: 'Platform credentials' }).click();
    await page.getByRole('button', { name: 'API keys' }).click();
    await row.waitFor();
    assert.equal(await page.locator('.once').count(), 0);
    assert.doesNotMatch(await page.content(), new RegExp(key));
    // The key works until it is revoked.
    assert.equal((await s.api('GET', '/v1/instances', undefined, key)).status, 200);
    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: 'Revoke' }).click();
    await waitUntil(async () => (await page.locator('tr[data-key-id]').count()) === 0, 5000, 'key revoked');
    assert.equal((await s.api('GET', '/v1/instances', undefined, key)).status, 401);
  });

  test('a key scoped to one instance sees only that instance', async () => {
    const k = await s.api('POST', '/v1/api-keys', { name: 'support only', instance_ids: [instanceId] });
    assert.equal(k.status, 201, k.text);
    const p = await context.newPage();
    await p.goto(`${s.url}/`);
    await p.evaluate(() => sessionStorage.clear());
    await p.reload();
    await p.getByLabel('API key').fill(k.body.key);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('button', { name: 'Support bot' }).waitFor();
    assert.equal(await p.getByRole('button', { name: 'Sales bot' }).count(), 0);
    await p.close();
  });
});
