/**
 * The operator dashboard in Chromium: sign in with an API key, create a channel (a 422 shows next
 * to its field, then the fix goes through), watch a visitor message arrive in the live feed, answer
 * as operator, and replay a dead-lettered delivery.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, type TestServer } from '../helpers/server.js';
import { startFakeAgent, type FakeAgent } from '../inbound/fake-agent.js';
import { hasChromium, LAUNCH, screenshotDir, waitUntil } from './helpers.js';

const SHOTS = screenshotDir();

describe('dashboard in Chromium', { skip: !hasChromium() && 'chromium is not installed (/usr/bin/chromium)' }, () => {
  let s: TestServer;
  let agent: FakeAgent;
  let browser: Browser;
  let page: Page;
  let instanceId: string;
  let agentUp = false;

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
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
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

  test('creating a channel: the 422 appears next to the field, the fix creates it', async () => {
    await page.getByRole('button', { name: 'Support bot' }).click();
    const form = page.getByRole('form', { name: 'Add channel' });
    await form.getByLabel('Channel type').selectOption('telegram');
    await form.getByLabel('Provider').fill('web');
    await form.getByLabel('External identifier').fill('x'.repeat(300));
    await form.getByRole('button', { name: 'Create channel' }).click();
    const identErr = form.locator('[data-error-for="external_identifier"]');
    await identErr.filter({ hasText: 'String should have at most 255 characters' }).waitFor();
    assert.equal(await form.getByLabel('External identifier').getAttribute('aria-invalid'), 'true');
    // Fix it: now the provider rule speaks, next to the provider field (and the old error is gone).
    await form.getByLabel('External identifier').fill('support-site');
    await form.getByRole('button', { name: 'Create channel' }).click();
    await form.locator('[data-error-for="provider"]').filter({ hasText: "provider 'web' serves web_chat channels, not 'telegram'" }).waitFor();
    assert.equal(await identErr.textContent(), '');
    assert.equal(await form.getByLabel('Provider').getAttribute('aria-invalid'), 'true');
    await form.screenshot({ path: `${SHOTS}dashboard-validation.png` });
    await form.getByLabel('Channel type').selectOption('web_chat');
    await form.getByLabel('Config (JSON)').fill('{"allowed_origins": ["https://support.example"], "title": "Support"}');
    await form.getByRole('button', { name: 'Create channel' }).click();
    const row = page.locator('tr', { hasText: 'support-site' });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /pending/);
    const hook = await row.getByRole('textbox', { name: /Webhook URL/ }).inputValue();
    assert.match(await row.getByRole('textbox', { name: /Embed code/ }).inputValue(), /<script src=".*\/widget\.js" data-channel="[0-9a-f-]{36}" async><\/script>/);
    assert.match(hook, new RegExp(`^${s.url}/v1/webhooks/[0-9a-f-]{36}$`));
    // Disable and enable again.
    await row.getByRole('button', { name: 'Disable' }).click();
    await page.locator('tr', { hasText: 'support-site' }).getByText('disabled').waitFor();
    await page.locator('tr', { hasText: 'support-site' }).getByRole('button', { name: 'Enable' }).click();
    await page.locator('tr', { hasText: 'support-site' }).getByRole('button', { name: 'Disable' }).waitFor();
  });

  test('a visitor message arrives in the live feed; its failed delivery is dead-lettered and replayed', async () => {
    const channelId = (await s.api('GET', `/v1/instances/${instanceId}/channels`)).body.channels[0].id;
    await page.getByRole('tab', { name: 'Live events' }).click();
    await page.getByText('Live', { exact: false }).first().waitFor();
    await waitUntil(async () => ((await page.locator('.live.on').count()) > 0), 5000, 'feed connected');
    const v = (await s.api('POST', `/v1/webchat/${channelId}/session`, {}, null)).body;
    const sent = await s.api('POST', `/v1/webchat/${channelId}/messages`, { visitor_id: v.visitor_id, token: v.token, text: 'Where is my order?', client_message_id: randomUUID() }, null);
    assert.equal(sent.status, 202, sent.text);
    await page.locator('.feed li', { hasText: 'Where is my order?' }).waitFor({ timeout: 5000 });
    assert.match((await page.locator('.feed li').first().textContent()) ?? '', /message\.received/);

    // The channel is now active, with a last event time.
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

  test('conversations show their messages; the operator answers from the dashboard', async () => {
    await page.getByRole('tab', { name: 'Conversations' }).click();
    await page.locator('[data-conversation-id]').first().click();
    await page.locator('.msgs li.in', { hasText: 'Where is my order?' }).waitFor();
    await page.getByRole('textbox', { name: 'Operator message' }).fill('It ships tomorrow.');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const out = page.locator('.msgs li.out', { hasText: 'It ships tomorrow.' });
    await out.waitFor();
    // The web chat send job marks it delivered; the live feed refreshes the conversation.
    await out.locator('.badge.delivered').waitFor({ timeout: 10_000 });
    await page.screenshot({ path: `${SHOTS}dashboard-conversation.png` });
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

  test('a key scoped to one instance sees only that instance', async () => {
    const k = await s.api('POST', '/v1/api-keys', { name: 'support only', instance_ids: [instanceId] });
    assert.equal(k.status, 201, k.text);
    const p = await browser.newPage();
    await p.goto(`${s.url}/`);
    await p.getByLabel('API key').fill(k.body.key);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('button', { name: 'Support bot' }).waitFor();
    assert.equal(await p.getByRole('button', { name: 'Sales bot' }).count(), 0);
    await p.close();
  });
});
