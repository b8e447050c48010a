/**
 * The widget in a real browser (Debian's Chromium through playwright-core): a visitor opens the
 * sample page, chats with an agent, sees a streamed answer, reloads and keeps the history, and the
 * widget reconnects and carries on after the server restarts — without losing or repeating a message.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer, type TestServer } from '../helpers/server.js';
import { freshStore, releaseStore } from '../helpers/stores.js';
import { startFakeAgent, type FakeAgent } from '../inbound/fake-agent.js';
import { hasChromium, LAUNCH, screenshotDir, startProxy, waitUntil } from './helpers.js';
import { until } from '../outbound/helpers.js';

const SHOTS = screenshotDir();

describe('web chat widget in Chromium', { skip: !hasChromium() && 'chromium is not installed (/usr/bin/chromium)' }, () => {
  const target = freshStore('sqlite');
  const secretKey = randomBytes(32);
  const env = { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' };
  let s: TestServer;
  let agent: FakeAgent;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let browser: Browser;
  let page: Page;
  let instanceId: string;
  let channelId: string;

  const bubbles = (p: Page, cls: 'in' | 'out') => p.locator(`#switchboard-chat .msg.${cls}:not(.typing)`);
  const texts = async (p: Page, cls: 'in' | 'out') => (await bubbles(p, cls).locator('.txt').allTextContents()).map((t) => t.trim());

  before(async () => {
    agent = await startFakeAgent();
    // Answers visitor messages only (status events get a plain 200, or answers would beget answers).
    agent.script = (d) => (d.body?.type === 'message.received' ? { json: { reply: { text: `You said: ${d.body.data.text}` } }, delayMs: 150 } : { json: {} });
    s = await startServer('sqlite', { target, secretKey, env });
    const inst = await s.api('POST', '/v1/instances', { name: 'Shop', agent_url: agent.url });
    instanceId = inst.body.id;
    agent.secret = inst.body.signing_secret;
    const c = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'web_chat', provider: 'web', external_identifier: 'shop-site', config: { title: 'Shop chat', greeting: 'Hi! How can we help?', agent_name: 'Shop assistant' } });
    channelId = c.body.id;
    proxy = await startProxy(Number(new URL(s.url).port));
    browser = await chromium.launch(LAUNCH);
    page = await browser.newPage({ viewport: { width: 1000, height: 720 } });
  });
  after(async () => {
    await browser?.close();
    await proxy?.close();
    await s?.close();
    await agent?.close();
    // The servers share this target (a restart reuses it), so the test removes it.
    await releaseStore(target);
  });

  test('a visitor opens the page, sends a message and gets the answer', async () => {
    await page.goto(`${proxy.url}/demo?channel=${channelId}`);
    const launcher = page.getByRole('button', { name: 'Open chat' });
    await launcher.click();
    const dialog = page.getByRole('dialog', { name: 'Shop chat' });
    await dialog.waitFor();
    // Focus moves into the panel, onto the message box.
    assert.equal(await page.evaluate(() => document.getElementById('switchboard-chat')?.shadowRoot?.activeElement?.id), 'sb-input');
    await page.getByText('Hi! How can we help?').waitFor();
    await page.getByLabel('Your message').fill('hello there');
    await page.keyboard.press('Enter');
    await bubbles(page, 'out').filter({ hasText: 'You said: hello there' }).waitFor({ timeout: 10_000 });
    assert.deepEqual(await texts(page, 'in'), ['hello there']);
    // Answers carry who wrote them (the channel's agent_name) and when; the visitor's own, the time.
    const answer = bubbles(page, 'out').first();
    assert.equal(await answer.locator('.meta b').textContent(), 'Shop assistant');
    const at = await answer.locator('.meta time').getAttribute('datetime');
    assert.ok(at && Math.abs(Date.parse(at) - Date.now()) < 60_000, String(at));
    assert.match((await answer.locator('.meta time').textContent()) ?? '', /\d{1,2}:\d{2}/);
    assert.equal(await bubbles(page, 'in').first().locator('.meta b').count(), 0);
    assert.equal(await bubbles(page, 'in').first().locator('.meta time').count(), 1);
    // Escape closes the panel and gives focus back to the launcher.
    await page.keyboard.press('Escape');
    assert.equal(await dialog.isVisible(), false);
    assert.equal(await page.evaluate(() => document.getElementById('switchboard-chat')?.shadowRoot?.activeElement?.className), 'launcher');
  });

  test('a streamed answer shows as it arrives, then as the stored message', async () => {
    await page.getByRole('button', { name: 'Open chat' }).click();
    const conv = (await s.api('GET', `/v1/instances/${instanceId}/conversations`)).body.conversations[0].id;
    const hub = s.services.widgets;
    const id = randomUUID();
    await hub.publishTyping(conv, true);
    await page.locator('#switchboard-chat .typing').waitFor();
    for (const t of ['Streaming ', 'answers ', 'arrive ']) await hub.publishDelta(conv, id, t);
    await page.locator(`#switchboard-chat .msg.out[data-id="${id}"]`).filter({ hasText: 'Streaming answers arrive' }).waitFor();
    assert.equal(await page.locator('#switchboard-chat .typing').count(), 0);
    const now = new Date().toISOString();
    await s.services.repos.inbox.insertMessage(s.services.repos.inbox.db, {
      id, instance_id: instanceId, channel_id: channelId, conversation_id: conv, direction: 'out', provider_message_id: null,
      status: 'delivered', text: 'Streaming answers arrive word by word.', content: '{}', error: null, idempotency_key: null, created_at: now, updated_at: now,
    });
    await hub.publishMessage(conv, id);
    await page.locator(`#switchboard-chat .msg.out[data-id="${id}"]`).filter({ hasText: 'word by word.' }).waitFor();
    await page.screenshot({ path: `${SHOTS}widget.png` });
  });

  test('after a reload the conversation is still there, each message once', async () => {
    await page.reload();
    await page.getByRole('button', { name: /Open chat/ }).click();
    await bubbles(page, 'out').filter({ hasText: 'word by word.' }).waitFor();
    assert.deepEqual(await texts(page, 'in'), ['hello there']);
    assert.deepEqual(await texts(page, 'out'), ['You said: hello there', 'Streaming answers arrive word by word.']);
  });

  test('the server restarts: the widget reconnects, resumes, and nothing is lost or repeated', async () => {
    await s.close();
    proxy.cut();
    await page.getByText('Reconnecting…').waitFor({ timeout: 10_000 });
    // A message written while the server is down waits in the widget's outbox.
    await page.getByLabel('Your message').fill('are you back?');
    await page.keyboard.press('Enter');
    s = await startServer('sqlite', { target, secretKey, env });
    proxy.retarget(Number(new URL(s.url).port));
    await bubbles(page, 'out').filter({ hasText: 'You said: are you back?' }).waitFor({ timeout: 20_000 });
    // An answer stored while the widget was away (an operator message) arrives through the resumed stream.
    const conv = (await s.api('GET', `/v1/instances/${instanceId}/conversations`)).body.conversations[0].id;
    const sent = await s.api('POST', `/v1/instances/${instanceId}/conversations/${conv}/messages`, { text: 'An operator here.' }, undefined, { 'idempotency-key': randomUUID() });
    assert.equal(sent.status, 202, sent.text);
    await bubbles(page, 'out').filter({ hasText: 'An operator here.' }).waitFor({ timeout: 10_000 });
    assert.deepEqual(await texts(page, 'in'), ['hello there', 'are you back?']);
    assert.deepEqual(await texts(page, 'out'), ['You said: hello there', 'Streaming answers arrive word by word.', 'You said: are you back?', 'An operator here.']);
    await waitUntil(async () => (await page.locator('#switchboard-chat .status').textContent()) === '', 5000, 'status cleared');
    // The agent got each visitor message once (the outbox resend was deduplicated).
    const got = agent.accepted().filter((d) => d.body.type === 'message.received').map((d) => d.body.data.text);
    assert.deepEqual(got.sort(), ['are you back?', 'hello there']);
  });

  test('the built-in echo agent streams its answer token by token into the widget', async () => {
    const inst = await s.api('POST', '/v1/instances', { name: 'Echo', agent_url: 'builtin:echo' });
    assert.equal(inst.status, 201, inst.text);
    const c = await s.api('POST', `/v1/instances/${inst.body.id}/channels`, { channel_type: 'web_chat', provider: 'web', external_identifier: 'echo-site' });
    const p = await browser.newPage({ viewport: { width: 1000, height: 720 } });
    await p.goto(`${proxy.url}/demo?channel=${c.body.id}`);
    await p.getByRole('button', { name: 'Open chat' }).click();
    await p.getByLabel('Your message').fill('stream please');
    await p.keyboard.press('Enter');
    // The bubble is born from a delta (data-streamed) and grows before the stored message replaces it.
    const streamed = p.locator('#switchboard-chat .msg.out[data-streamed="true"] .txt');
    await streamed.waitFor({ timeout: 10_000 });
    const partial = (await streamed.textContent()) ?? '';
    await streamed.filter({ hasText: 'answer for real.' }).waitFor({ timeout: 15_000 });
    const final = ((await streamed.textContent()) ?? '').trim();
    assert.match(final, /^You said: “stream please”\./);
    assert.ok(partial.length < final.length && final.startsWith(partial.trim()), `partial ${JSON.stringify(partial)}`);
    await waitUntil(async () => (await p.locator('#switchboard-chat .msg.out[data-streamed="true"]').getAttribute('aria-busy')) === null, 5000, 'final message');
    assert.equal(await bubbles(p, 'out').count(), 1);
    // A channel without config.agent_name: its agent is "Agent".
    assert.equal(await bubbles(p, 'out').first().locator('.meta b').textContent(), 'Agent');
    await p.close();
  });

  test('answers render Markdown safely: bold, italics, code, lists, safe links only, markup shown as text', async () => {
    // The visitor of the first tests, who has a conversation.
    const p = page;
    if (!(await p.getByRole('dialog', { name: 'Shop chat' }).isVisible())) await p.getByRole('button', { name: /Open chat/ }).click();
    await bubbles(p, 'out').first().waitFor();
    const conv = (await s.api('GET', `/v1/instances/${instanceId}/conversations`)).body.conversations[0].id;
    const md = [
      'Here is **your order** and *the date*, with `code`:',
      '',
      '1. [track it](https://track.example/1)',
      '2. [not this](javascript:alert(1)) nor [this](data:text/html,x)',
      '',
      '```',
      '<b>not bold</b>',
      '```',
      '<img src=x onerror="window.pwned=1"> https://shop.example/help.',
    ].join('\n');
    const sent = await s.api('POST', `/v1/instances/${instanceId}/conversations/${conv}/messages`, { text: md }, undefined, { 'idempotency-key': randomUUID() });
    assert.equal(sent.status, 202, sent.text);
    const b = bubbles(p, 'out').filter({ hasText: 'your order' });
    await b.waitFor({ timeout: 10_000 });
    const txt = b.locator('.txt');
    assert.equal(await txt.locator('strong').textContent(), 'your order');
    assert.equal(await txt.locator('em').textContent(), 'the date');
    assert.equal(await txt.locator('p code').textContent(), 'code');
    assert.deepEqual(await txt.locator('ol li').count(), 2);
    assert.deepEqual(await txt.locator('a').evaluateAll((as) => as.map((a) => [(a as HTMLAnchorElement).href, a.textContent, (a as HTMLAnchorElement).rel])), [
      ['https://track.example/1', 'track it', 'noopener noreferrer nofollow'],
      ['https://shop.example/help', 'https://shop.example/help', 'noopener noreferrer nofollow'],
    ]);
    assert.match((await txt.textContent()) ?? '', /not this nor this/);
    assert.equal(await txt.locator('pre code').textContent(), '<b>not bold</b>');
    assert.equal(await txt.locator('b, img, script').count(), 0);
    assert.match((await txt.textContent()) ?? '', /<img src=x onerror="window.pwned=1">/);
    assert.equal(await p.evaluate(() => (window as any).pwned), undefined);
    await p.screenshot({ path: `${SHOTS}widget-markdown.png` });
  });

  test('an operator who takes over is shown by name; the agent by the channel’s agent_name', async () => {
    const p = page;
    if (!(await p.getByRole('dialog', { name: 'Shop chat' }).isVisible())) await p.getByRole('button', { name: /Open chat/ }).click();
    const conv = (await s.api('GET', `/v1/instances/${instanceId}/conversations`)).body.conversations[0].id;
    // A name with markup: shown as the characters typed.
    const sent = await s.api('POST', `/v1/instances/${instanceId}/conversations/${conv}/messages`, { text: 'Sam from support here.', author: { kind: 'operator', name: 'Sam' } }, undefined, { 'idempotency-key': randomUUID() });
    assert.equal(sent.status, 202, sent.text);
    const b = bubbles(p, 'out').filter({ hasText: 'Sam from support here.' });
    await b.waitFor({ timeout: 10_000 });
    assert.equal(await b.locator('.meta b').textContent(), 'Sam');
    assert.equal(await b.getAttribute('data-author'), 'operator');
    assert.match((await b.locator('.meta time').textContent()) ?? '', /\d{1,2}:\d{2}/);
    const tricky = await s.api('POST', `/v1/instances/${instanceId}/conversations/${conv}/messages`, { text: 'Still me.', author: { kind: 'operator', name: '<img src=x onerror="window.pwned=1">' } }, undefined, { 'idempotency-key': randomUUID() });
    assert.equal(tricky.status, 202, tricky.text);
    const t = bubbles(p, 'out').filter({ hasText: 'Still me.' });
    await t.waitFor({ timeout: 10_000 });
    assert.equal(await t.locator('.meta b').textContent(), '<img src=x onerror="window.pwned=1">');
    assert.equal(await t.locator('img').count(), 0);
    assert.equal(await p.evaluate(() => (window as any).pwned), undefined);
    // The session's history carries the authors (kind and name only).
    const ses = await p.evaluate(async (ch) => {
      const v = JSON.parse(localStorage.getItem(`switchboard-chat:${ch}`) ?? '{}').visitor;
      return (await fetch(`/v1/webchat/${ch}/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(v) })).json();
    }, channelId);
    assert.deepEqual(ses.messages.find((m: any) => m.text === 'Sam from support here.').author, { kind: 'operator', name: 'Sam' });
    assert.deepEqual(ses.messages.find((m: any) => m.text === 'hello there').author, { kind: 'contact' });
    assert.deepEqual(ses.messages.find((m: any) => m.text === 'You said: hello there').author, { kind: 'agent' });
    // Earlier answers keep the agent's name, also after a reload.
    await p.reload();
    await p.getByRole('button', { name: /Open chat/ }).click();
    await bubbles(p, 'out').filter({ hasText: 'Sam from support here.' }).locator('.meta b', { hasText: 'Sam' }).waitFor();
    assert.equal(await bubbles(p, 'out').filter({ hasText: 'You said: hello there' }).locator('.meta b').textContent(), 'Shop assistant');
    await p.screenshot({ path: `${SHOTS}widget-operator.png` });
    // The operator's message took the conversation over: the agent still answers the visitor's
    // next message (copilot), but that answer is held back — never shown in the widget, live or
    // after a reload.
    assert.equal((await s.api('GET', `/v1/instances/${instanceId}/conversations/${conv}`)).body.mode, 'human');
    await p.getByLabel('Your message').fill('while a human helps');
    await p.keyboard.press('Enter');
    await bubbles(p, 'in').filter({ hasText: 'while a human helps' }).and(p.locator('[data-id]')).waitFor();
    await until(async () => (await s.api('GET', `/v1/instances/${instanceId}/conversations/${conv}/messages?order=desc&limit=3`)).body.messages.find((m: any) => m.text === 'You said: while a human helps' && m.status === 'suppressed'), 'the suppressed answer');
    const after = await s.api('POST', `/v1/instances/${instanceId}/conversations/${conv}/messages`, { text: 'Sam again.', author: { kind: 'operator', name: 'Sam' } }, undefined, { 'idempotency-key': randomUUID() });
    assert.equal(after.status, 202, after.text);
    await bubbles(p, 'out').filter({ hasText: 'Sam again.' }).waitFor({ timeout: 10_000 });
    assert.equal(await bubbles(p, 'out').filter({ hasText: 'You said: while a human helps' }).count(), 0);
    await p.reload();
    await p.getByRole('button', { name: /Open chat/ }).click();
    await bubbles(p, 'out').filter({ hasText: 'Sam again.' }).waitFor();
    assert.equal(await bubbles(p, 'out').filter({ hasText: 'You said: while a human helps' }).count(), 0, 'not in the session history either');
    // Give the conversation back for the tests after this one.
    assert.equal((await s.api('POST', `/v1/instances/${instanceId}/conversations/${conv}/resume`, {})).status, 200);
  });

  test('a message from another day shows its date with the time', async () => {
    const p = page;
    if (!(await p.getByRole('dialog', { name: 'Shop chat' }).isVisible())) await p.getByRole('button', { name: /Open chat/ }).click();
    const conv = (await s.api('GET', `/v1/instances/${instanceId}/conversations`)).body.conversations[0].id;
    const id = randomUUID();
    const old = new Date(Date.now() - 3 * 86_400_000).toISOString();
    await s.services.repos.inbox.insertMessage(s.services.repos.inbox.db, {
      id, instance_id: instanceId, channel_id: channelId, conversation_id: conv, direction: 'out', provider_message_id: null,
      status: 'delivered', text: 'From a few days ago.', content: '{}', error: null, idempotency_key: null, created_at: old, updated_at: new Date().toISOString(),
    });
    await s.services.widgets.publishMessage(conv, id);
    const b = p.locator(`#switchboard-chat .msg.out[data-id="${id}"]`);
    await b.waitFor({ timeout: 10_000 });
    assert.equal(await b.locator('.meta time').getAttribute('datetime'), old);
    const shown = (await b.locator('.meta time').textContent()) ?? '';
    const expected = await p.evaluate((at) => new Date(at).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }), old);
    assert.equal(shown, expected);
    assert.match(shown, /\d{1,2}:\d{2}/);
    // Today's answers keep the time alone.
    const todayTime = bubbles(p, 'out').filter({ hasText: 'You said: hello there' }).locator('.meta time');
    const at = (await todayTime.getAttribute('datetime')) ?? '';
    // (Should the run straddle midnight, that answer is from yesterday and shows its day too.)
    assert.equal(await todayTime.textContent(), await p.evaluate((t) => {
      const d = new Date(t);
      return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
    }, at));
  });

  test('phone width: the panel fills the screen', async () => {
    const phone = await browser.newPage({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true });
    await phone.goto(`${proxy.url}/demo?channel=${channelId}`);
    await phone.getByRole('button', { name: 'Open chat' }).click();
    await phone.getByLabel('Your message').fill('hi from my phone');
    await phone.keyboard.press('Enter');
    await bubbles(phone, 'out').filter({ hasText: 'You said: hi from my phone' }).waitFor({ timeout: 10_000 });
    const box = await phone.locator('#switchboard-chat .panel').boundingBox();
    assert.ok(box && box.width >= 370 && box.height >= 600, JSON.stringify(box));
    await phone.screenshot({ path: `${SHOTS}widget-phone.png` });
    await phone.close();
  });
});
