/**
 * The dashboard's inbox against the real conversation API, in Chromium, on every store: a Telegram
 * conversation (local fake Bot API) with more than a page of history — the newest page first,
 * "Load older messages" pages back with `before`; Claim (handoff with the operator as assignee ->
 * mode human), an operator reply (author "Sam", reaching the fake Telegram), an agent reply held
 * back as suppressed, Hand back (resume -> agent, the agent answers again), Close (status closed,
 * gone from the open filter, listed under "Any status"), Reopen; the mode and channel filters; a
 * person's markup and name shown as text; the list paged with next_cursor ("More conversations").
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startFakeTelegram, type FakeTelegram } from '../../fakes/telegram.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';
import { startFakeAgent, type FakeAgent } from '../inbound/fake-agent.js';
import { until } from '../outbound/helpers.js';
import { hasChromium, LAUNCH, screenshotDir } from './helpers.js';

const SHOTS = screenshotDir();
const CHAT = 9301;
const PAGE = 50;
const OLDER = 6;

for (const kind of storeKinds()) {
  describe(`dashboard inbox against the conversation API on ${kind}`, { skip: !hasChromium() && 'chromium is not installed (/usr/bin/chromium)' }, () => {
    let s: TestServer;
    let tg: FakeTelegram;
    let agent: FakeAgent;
    let browser: Browser;
    let page: Page;
    let instanceId: string;
    let channel: any;
    let conv: any;
    const SECRET = 'tg-secret_inbox';
    let updateId = 7000;

    async function inbound(text: string) {
      const r = await fetch(channel.webhook_url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        body: JSON.stringify({ update_id: ++updateId, message: { message_id: updateId, date: 1_700_000_000, chat: { id: CHAT, type: 'private' }, from: { id: CHAT, is_bot: false, first_name: 'Ada' }, text } }),
      });
      assert.equal(r.status, 200);
    }
    const api = async (path: string) => {
      const r = await s.api('GET', `/v1/instances/${instanceId}/conversations${path}`);
      assert.equal(r.status, 200, r.text);
      return r.body;
    };
    const msgs = () => page.locator('.msgs > li[data-message-id]');
    const head = () => page.locator('.conv-head');

    before(async () => {
      tg = await startFakeTelegram();
      agent = await startFakeAgent();
      // Answers "q:" messages only, so the history is the person's.
      agent.script = (d) => (d.body.type === 'message.received' && d.body.data.text.startsWith('q:') ? { json: { reply: { text: `a:${d.body.data.text.slice(2)}` } } } : { json: {} });
      s = await startServer(kind, { env: { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true', SWITCHBOARD_TELEGRAM_API_URL: tg.url } });
      const inst = await s.api('POST', '/v1/instances', { name: 'Inbox bot', agent_url: agent.url });
      instanceId = inst.body.id;
      agent.secret = inst.body.signing_secret;
      const conn = await s.api('POST', `/v1/instances/${instanceId}/connections`, { provider: 'telegram', secrets: { bot_token: tg.token } });
      const ch = await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'telegram', provider: 'telegram', external_identifier: 'inbox_test_bot', connection_id: conn.body.id, webhook_secret: SECRET });
      assert.equal(ch.status, 201, ch.text);
      channel = ch.body;
      // A second channel, for the channel filter.
      assert.equal((await s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'web_chat', provider: 'web', external_identifier: 'inbox-site' })).status, 201);
      // More than a page: the first OLDER messages are only reached by paging back.
      for (let i = 1; i <= PAGE + OLDER; i++) await inbound(`m${String(i).padStart(2, '0')}`);
      conv = (await api('')).conversations[0];
      browser = await chromium.launch(LAUNCH);
      page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
      await page.goto(`${s.url}/`);
      await page.getByLabel('API key').fill(s.adminKey);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('textbox', { name: 'Your name' }).fill('Sam');
      await page.getByRole('textbox', { name: 'Your name' }).press('Tab');
    });
    after(async () => {
      await browser?.close();
      await s?.close();
      await agent?.close();
      await tg?.close();
    });

    test('the newest page first; "Load older messages" pages back with before= until the first message', async () => {
      const asked: string[] = [];
      page.on('request', (r) => void (r.url().includes(`/conversations/${conv.id}/messages?`) && asked.push(r.url())));
      await page.getByRole('tab', { name: 'Inbox' }).click();
      const item = page.locator(`[data-conversation-id="${conv.id}"]`);
      await item.locator('.preview', { hasText: `m${PAGE + OLDER}` }).waitFor();
      assert.match((await item.textContent()) ?? '', /Ada/);
      await item.click();
      await msgs().filter({ hasText: `m${PAGE + OLDER}` }).waitFor();
      assert.equal(await msgs().count(), PAGE);
      assert.equal(await msgs().first().locator('.body').textContent(), `m${String(OLDER + 1).padStart(2, '0')}`);
      assert.equal(await msgs().first().locator('.author').textContent(), 'Ada');
      const older = page.getByRole('button', { name: 'Load older messages' });
      await older.click();
      await msgs().filter({ hasText: 'm01' }).waitFor();
      assert.equal(await msgs().count(), PAGE + OLDER);
      assert.deepEqual((await msgs().locator('.body').allTextContents()).slice(0, 3), ['m01', 'm02', 'm03']);
      assert.equal(await older.isVisible(), false, 'nothing older left');
      const paged = asked.map((u) => new URL(u).searchParams).find((q) => q.has('before'));
      assert.ok(paged, asked.join('\n'));
      assert.equal(paged.get('order'), 'desc');
      // The cursor is the oldest message shown before the click (m07).
      const m07 = (await api(`/${conv.id}/messages?limit=1000`)).messages.find((m: any) => m.text === `m${String(OLDER + 1).padStart(2, '0')}`);
      assert.equal(paged.get('before'), m07.id);
    });

    test('Claim: handoff with the operator as assignee, mode human shown; the filter finds it', async () => {
      await head().getByRole('button', { name: 'Claim' }).click();
      await head().locator('.badge.human').waitFor();
      await head().getByText('assigned to Sam').waitFor();
      assert.equal(await head().locator('.mode-reason').textContent(), 'Handed over: claimed by Sam in the dashboard');
      const c = await api(`/${conv.id}`);
      assert.equal(c.mode, 'human');
      assert.equal(c.assignee, 'Sam');
      const item = page.locator(`[data-conversation-id="${conv.id}"]`);
      await item.locator('.badge.human').waitFor();
      assert.match((await item.textContent()) ?? '', /· Sam/);
      await page.getByRole('combobox', { name: 'Mode' }).selectOption('agent');
      await page.locator('.convs').getByText('No conversations here.').waitFor();
      await page.getByRole('combobox', { name: 'Mode' }).selectOption('human');
      await item.waitFor();
      await page.getByRole('combobox', { name: 'Mode' }).selectOption('');
      // The channel filter: the other channel has no conversations.
      await page.getByRole('combobox', { name: 'Channel' }).selectOption({ label: 'web_chat · inbox-site' });
      await page.locator('.convs').getByText('No conversations here.').waitFor();
      await page.getByRole('combobox', { name: 'Channel' }).selectOption({ label: 'telegram · inbox_test_bot' });
      await item.waitFor();
      await page.getByRole('combobox', { name: 'Channel' }).selectOption('');
    });

    test('an operator reply shows its author and reaches the person; the agent’s reply is held back', async () => {
      await page.getByRole('textbox', { name: 'Reply' }).fill('Sam here, **on it**.');
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      const out = msgs().filter({ hasText: 'Sam here, on it.' });
      await out.waitFor();
      assert.equal(await out.locator('.author').textContent(), 'Sam');
      assert.equal(await out.locator('.kind').textContent(), 'operator');
      assert.equal(await out.locator('.body strong').textContent(), 'on it');
      const sent = await until(() => tg.sentMessages(CHAT).find((m) => String(m.text).includes('Sam here')), 'the operator message at Telegram');
      assert.match(String(sent.text), /on it/);
      await out.locator('.badge.delivered, .badge.sent').first().waitFor({ timeout: 10_000 });
      // The agent still hears the person (copilot) but its answer is not sent.
      await inbound('q:during');
      await until(async () => (await api(`/${conv.id}/messages?order=desc&limit=5`)).messages.find((m: any) => m.text === 'a:during' && m.status === 'suppressed'), 'the suppressed agent reply');
      const suppressed = msgs().filter({ hasText: 'a:during' });
      await page.locator(`[data-conversation-id="${conv.id}"]`).click();
      await suppressed.locator('.badge.suppressed').waitFor();
      assert.equal(await suppressed.locator('.author').textContent(), 'Agent');
      assert.ok(!tg.sentMessages(CHAT).some((m) => m.text === 'a:during'), 'not sent to the person');
      // The list's preview follows: the last message is the held-back answer.
      await page.locator(`[data-conversation-id="${conv.id}"] .preview`, { hasText: 'a:during' }).waitFor();
      if (kind === 'sqlite') {
        await page.evaluate(() => window.scrollTo(0, 0));
        await page.screenshot({ path: `${SHOTS}dashboard-inbox.png`, fullPage: true });
      }
    });

    test('Hand back: resume -> mode agent, and the agent answers the person again', async () => {
      await head().getByRole('button', { name: 'Hand back to agent' }).click();
      await head().getByRole('button', { name: 'Claim' }).waitFor();
      assert.equal(await head().locator('.badge.agent').count(), 1);
      assert.equal(await head().getByText(/assigned to/).count(), 0);
      const c = await api(`/${conv.id}`);
      assert.equal(c.mode, 'agent');
      assert.equal(c.assignee, null);
      await inbound('q:after');
      await until(() => tg.sentMessages(CHAT).find((m) => m.text === 'a:after'), 'the agent answer at Telegram');
      // The live feed refreshes the open conversation.
      await msgs().filter({ hasText: 'a:after' }).waitFor({ timeout: 10_000 });
      // A handoff made elsewhere (the agent asking in its reply) shows in the open view by itself.
      agent.script = (d) => (d.body.type === 'message.received' && d.body.data.text === 'I want a person' ? { json: { reply: { text: 'Getting someone.', handoff: { reason: 'asked for a person' } } } } : { json: {} });
      await inbound('I want a person');
      await head().locator('.badge.human').waitFor({ timeout: 10_000 });
      assert.equal(await head().locator('.mode-reason').textContent(), 'Handed over: asked for a person');
      await head().getByRole('button', { name: 'Hand back to agent' }).click();
      await head().getByRole('button', { name: 'Claim' }).waitFor();
      assert.equal((await api(`/${conv.id}`)).mode, 'agent');
    });

    test('Close: status closed, gone from the open list, listed under any status; Reopen', async () => {
      await head().getByRole('button', { name: 'Close conversation' }).click();
      await head().getByRole('button', { name: 'Reopen' }).waitFor();
      await head().locator('.badge.closed').waitFor();
      assert.equal((await api(`/${conv.id}`)).status, 'closed');
      const item = page.locator(`[data-conversation-id="${conv.id}"]`);
      await page.locator('.convs').getByText('No conversations here.').waitFor();
      await page.getByRole('combobox', { name: 'Status' }).selectOption('');
      await item.locator('.badge.closed').waitFor();
      await page.getByRole('combobox', { name: 'Status' }).selectOption('closed');
      await item.waitFor();
      await head().getByRole('button', { name: 'Reopen' }).click();
      await head().getByRole('button', { name: 'Close conversation' }).waitFor();
      await head().locator('.badge.open').waitFor();
      assert.equal((await api(`/${conv.id}`)).status, 'open');
      await page.getByRole('combobox', { name: 'Status' }).selectOption('open');
      await item.waitFor();
      assert.equal(await item.locator('.badge.closed').count(), 0);
    });

    test('an action the server refuses shows its reason', async () => {
      // Another conversation with the same contact is opened after a close: reopening the old one is a 409.
      await head().getByRole('button', { name: 'Close conversation' }).click();
      await head().getByRole('button', { name: 'Reopen' }).waitFor();
      await inbound('a new question');
      const fresh = await until(async () => (await api('?status=open')).conversations.find((c: any) => c.id !== conv.id), 'the new conversation');
      assert.notEqual(fresh.id, conv.id);
      await head().getByRole('button', { name: 'Reopen' }).click();
      await page.locator('.detail [role="status"]', { hasText: /newer conversation/ }).waitFor();
      assert.equal((await api(`/${conv.id}`)).status, 'closed');
    });

    test('a person’s markup and name are text: an XSS attempt in a message is inert', async () => {
      const xss = '<img src=x onerror="window.pwned=1"> **not bold** <script>window.pwned=2</script>';
      const r = await fetch(channel.webhook_url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
        body: JSON.stringify({ update_id: ++updateId, message: { message_id: updateId, date: 1_700_000_000, chat: { id: CHAT + 1, type: 'private' }, from: { id: CHAT + 1, is_bot: false, first_name: '<b onmouseover=alert(1)>Eve</b>' }, text: xss } }),
      });
      assert.equal(r.status, 200);
      await page.getByRole('combobox', { name: 'Status' }).selectOption('');
      const item = page.locator('[data-conversation-id]', { hasText: 'not bold' });
      await item.waitFor({ timeout: 10_000 });
      assert.match((await item.locator('strong').textContent()) ?? '', /^<b onmouseover=alert\(1\)>Eve<\/b>$/);
      await item.click();
      const m = msgs().filter({ hasText: 'not bold' });
      await m.waitFor();
      // The person's text is shown as typed, not even as Markdown.
      assert.equal(await m.locator('.body').textContent(), xss);
      assert.equal(await m.locator('.body img, .body script, .body strong, .body b').count(), 0);
      assert.equal(await m.locator('.author').textContent(), '<b onmouseover=alert(1)>Eve</b>');
      assert.equal(await page.evaluate(() => (window as any).pwned), undefined);
    });

    test('the list pages with next_cursor: "More conversations" appends until the last page', async () => {
      const total = (await api('?limit=500')).conversations.length;
      assert.ok(total >= 3, `${total} conversations`);
      // The same dashboard and server with a page of one conversation instead of 100: the request
      // is rewritten on its way out, the answers (and cursors) are the server's.
      await page.route(/\/conversations\?/, (route) => {
        const u = new URL(route.request().url());
        u.searchParams.set('limit', '1');
        return route.continue({ url: u.toString() });
      });
      try {
        await page.getByRole('tab', { name: 'Inbox' }).click();
        await page.getByRole('combobox', { name: 'Status' }).selectOption('');
        const items = page.locator('[data-conversation-id]');
        const more = page.getByRole('button', { name: 'More conversations' });
        await more.waitFor();
        assert.equal(await items.count(), 1);
        for (let n = 2; n <= total; n++) {
          await more.click();
          await items.nth(n - 1).waitFor();
        }
        await more.waitFor({ state: 'hidden' });
        assert.equal(await items.count(), total);
        const ids = await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-conversation-id')));
        assert.equal(new Set(ids).size, total, 'each conversation once');
      } finally {
        await page.unroute(/\/conversations\?/);
      }
    });
  });
}
