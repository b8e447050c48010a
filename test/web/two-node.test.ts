/**
 * Two Switchboard processes (`node --import tsx src/main.ts`) on one PostgreSQL schema: a visitor
 * whose widget is connected to node A gets the agent's answer and an operator message posted
 * through node B, live (the hub's NOTIFY fan-out; no node keeps state the other needs).
 * The nodes run in a database of their own, in its `public` schema (no SWITCHBOARD_PG_SCHEMA).
 * Runs only when TEST_DATABASE_URL is set.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startCluster } from '../helpers/cluster.js';
import { chromium } from 'playwright-core';
import { startFakeAgent } from '../inbound/fake-agent.js';
import { hasChromium, LAUNCH, readSse, waitUntil } from './helpers.js';

const PG_URL = process.env.TEST_DATABASE_URL;


const skip = !PG_URL ? 'TEST_DATABASE_URL is not set (PostgreSQL only)' : !hasChromium() ? 'chromium is not installed' : false;

test('web chat across two nodes on one PostgreSQL: answers posted through B reach a widget on A', { skip, timeout: 120_000 }, async () => {
  const cluster = await startCluster(PG_URL!, { prefix: 'wc', deliverySchedule: '0.05,0.1,0.2', database: true });
  const { adminKey, stderr } = cluster;
  const node = (i: number) => cluster.node(i);
  const agent = await startFakeAgent();
  agent.script = (d) => (d.body?.type === 'message.received' ? { json: { reply: { text: `You said: ${d.body.data.text}` } } } : { json: {} });
  const browser = await chromium.launch(LAUNCH);

  try {
    const a = await node(0);
    const b = await node(1);
    const call = async (base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const r = await fetch(base + path, { method, headers: { 'x-api-key': adminKey, 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: r.status, body: (await r.json().catch(() => null)) as any };
    };
    const inst = (await call(a, 'POST', '/v1/instances', { name: 'two nodes', agent_url: agent.url })).body;
    agent.secret = inst.signing_secret;
    // Created through B, embedded from A.
    const ch = (await call(b, 'POST', `/v1/instances/${inst.id}/channels`, { channel_type: 'web_chat', provider: 'web', external_identifier: 'two-node-site' })).body;

    const page = await browser.newPage();
    await page.goto(`${a}/demo?channel=${ch.id}`);
    await page.getByRole('button', { name: 'Open chat' }).click();
    await page.getByLabel('Your message').fill('hello from A');
    await page.keyboard.press('Enter');
    const out = page.locator('#switchboard-chat .msg.out:not(.typing)');
    await out.filter({ hasText: 'You said: hello from A' }).waitFor({ timeout: 20_000 });

    // An operator answers through node B; the widget on A shows it within a moment.
    const conv = (await call(b, 'GET', `/v1/instances/${inst.id}/conversations`)).body.conversations[0].id;
    const t0 = Date.now();
    const sent = await call(b, 'POST', `/v1/instances/${inst.id}/conversations/${conv}/messages`, { text: 'Operator on node B here.' }, { 'idempotency-key': randomUUID() });
    assert.equal(sent.status, 202);
    await out.filter({ hasText: 'Operator on node B here.' }).waitFor({ timeout: 10_000 });
    assert.ok(Date.now() - t0 < 5000, `cross-node answer took ${Date.now() - t0} ms`);

    // The visitor's second tab is streaming from node B: a message sent through A appears there too.
    const visitor = await page.evaluate((id) => JSON.parse(localStorage.getItem(`switchboard-chat:${id}`) ?? '{}').visitor, ch.id);
    const sse = await readSse(`${b}/v1/webchat/${ch.id}/stream?visitor_id=${encodeURIComponent(visitor.visitor_id)}&token=${visitor.token}&after=${encodeURIComponent(new Date().toISOString())}`);
    try {
      await page.getByLabel('Your message').fill('second message');
      await page.keyboard.press('Enter');
      const seen: string[] = [];
      await waitUntil(async () => {
        const e = await sse.next('message', 10_000);
        seen.push(e.data.text);
        return seen.includes('You said: second message');
      }, 15_000, 'answer on the B stream');
      assert.ok(seen.includes('second message'));
    } finally {
      sse.close();
    }
    const texts = (await out.locator('.txt').allTextContents()).map((t) => t.trim()); // the text, not the author · time line
    assert.deepEqual(texts, ['You said: hello from A', 'Operator on node B here.', 'You said: second message']);
  } catch (err) {
    process.stderr.write(`node stderr:\n${stderr.join('\n---\n')}\n`);
    throw err;
  } finally {
    await browser.close();
    await cluster.close();
    await agent.close();
  }
});
