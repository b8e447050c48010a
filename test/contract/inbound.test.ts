/**
 * The inbound half of the provider contract, for every registered provider, end to end through
 * real HTTP on every store: a valid request is stored once and delivered once (Standard Webhooks
 * signature verified by the fake agent); the provider's retry is a no-op; a bad, missing or stale
 * signature changes nothing (fail closed); the subscription handshake answers where the provider
 * has one and GET is refused where it has none; malformed bodies (truncated JSON, wrong content
 * type, 50 MB, binary junk) get a clean 4xx and the server keeps serving.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getProvider, providers } from '../../src/adapters/registry.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';
import { startFakeAgent, type FakeAgent } from '../inbound/fake-agent.js';
import { channelCounts, createInstance, PRIVATE_OK, sleep, waitUntil } from '../inbound/helpers.js';
import { send, type Kit, type KitContext } from './kit.js';
import { kitsOf } from './kits.js';

/**
 * Every registered provider has an entry in kits.ts (kitsOf throws for one without: a new provider
 * cannot skip this suite). Web chat has no inbound kit (publicWebhook: false, checked in
 * coverage.test.ts): its visitors write through /v1/webchat only, tested in test/web and test/security.
 */
const KITS = new Map<string, (c: KitContext) => Promise<Kit>>();
for (const p of providers()) {
  const k = kitsOf(p.name).inbound;
  if (typeof k === 'function') KITS.set(p.name, k);
}
const PROVIDERS = [...KITS.keys()];
/** Providers whose first event is a message (retell's is a call event: no message row). */
const MESSAGE_ROWS: Record<string, number> = { retell: 0 };

for (const kind of storeKinds()) {
  describe(`inbound providers on ${kind}`, () => {
    let s: TestServer;
    let agent: FakeAgent;
    let instanceId: string;

    before(async () => {
      agent = await startFakeAgent();
      s = await startServer(kind, { env: PRIVATE_OK, services: { scheduleMs: [50, 100, 200] } });
      const inst = await createInstance(s, agent.url);
      instanceId = inst.id;
      agent.secret = inst.signing_secret;
    });
    after(async () => {
      await s.close();
      await agent.close();
    });

    for (const provider of PROVIDERS) {
      describe(provider, () => {
        let kit: Kit;
        before(async () => {
          kit = await KITS.get(provider)!({ s, instanceId });
        });
        after(() => kit.close());

        const deliveriesFor = () => agent.deliveries.filter((d) => d.body?.channel_id === kit.channelId);
        const channel = async () => (await s.api('GET', `/v1/instances/${instanceId}/channels`)).body.channels.find((c: any) => c.id === kit.channelId);

        test('a bad, missing or stale signature is refused and changes nothing', async () => {
          const variants: [string, Awaited<ReturnType<Kit['badSignature']>> | undefined][] = [
            ['bad', await kit.badSignature(900)],
            ['missing', await kit.missingSignature(901)],
            ['stale', await kit.staleSignature(902)],
          ];
          for (const [name, r] of variants) {
            if (!r) continue; // not part of this provider's scheme (no timestamp, or unsigned is anonymous)
            const res = await send(r);
            assert.ok(res.status === 401 || res.status === 403, `${provider} ${name} signature: got ${res.status} ${res.text}`);
          }
          assert.deepEqual(await channelCounts(s, kit.channelId), { events: 0, messages: 0, jobs: 0, conversations: 0 });
          const c = await channel();
          assert.equal(c.status, 'pending', 'unverified traffic does not activate the channel');
          assert.equal(c.last_event_at, null);
        });

        test('the subscription handshake answers where the provider has one; GET is refused where it has none', async () => {
          if (getProvider(provider)!.inbound!.handshake) {
            assert.ok(kit.handshake, `${provider} has a handshake: its kit must give one (Kit.handshake)`);
            const ok = await send(kit.handshake.valid);
            assert.equal(ok.status, 200, ok.text);
            assert.equal(ok.text, kit.handshake.answer);
            const wrong = await send(kit.handshake.wrongToken);
            assert.ok(wrong.status === 401 || wrong.status === 403, `wrong token: ${wrong.status} ${wrong.text}`);
            assert.ok(!wrong.text.includes(kit.handshake.answer), 'the challenge is not echoed for a wrong token');
          } else {
            assert.equal(kit.handshake, undefined, `${provider} has no handshake in its adapter`);
            const res = await send({ url: kit.url, method: 'GET', headers: {}, body: '' });
            assert.ok(res.status >= 400 && res.status < 500, `${provider} GET: ${res.status} ${res.text}`);
          }
          assert.deepEqual(await channelCounts(s, kit.channelId), { events: 0, messages: 0, jobs: 0, conversations: 0 });
        });

        test('malformed bodies get a clean 4xx, never a 5xx, and store nothing', async () => {
          const cases: [string, Buffer, string][] = [
            ['truncated JSON', Buffer.from('{"update_id": 1, "message": {"text": "hi"'), 'application/json'],
            ['binary junk', Buffer.from([0xff, 0xfe, 0x00, 0x81, 0x92, 0x7b, 0x00, 0x5c]), 'application/octet-stream'],
            kit.format === 'json'
              ? ['wrong content type (a form post to a JSON endpoint)', Buffer.from('update_id=1&text=hi'), 'application/x-www-form-urlencoded']
              : ['wrong content type (XML to a form endpoint)', Buffer.from('<xml><Body>hi</Body></xml>'), 'text/xml'],
            ['empty body', Buffer.alloc(0), 'application/json'],
          ];
          for (const [name, body, ct] of cases) {
            const res = await send(await kit.signRaw(body, ct));
            assert.ok(res.status >= 400 && res.status < 500, `${provider} ${name}: got ${res.status} ${res.text}`);
          }
          const big = Buffer.alloc(50 * 1024 * 1024, 0x61);
          const res = await send({ ...(await kit.valid(903)), body: big }).catch((err: Error) => ({ status: -1, text: err.message }));
          assert.ok(res.status === 413, `${provider} 50 MB body: got ${res.status} ${res.text}`);
          assert.deepEqual(await channelCounts(s, kit.channelId), { events: 0, messages: 0, jobs: 0, conversations: 0 });
          const health = await fetch(`${s.url}/healthz`);
          assert.ok(health.status < 500, 'the server still serves');
        });

        test('a valid request is stored once and delivered once; the provider retry is a no-op', async () => {
          const first = await send(await kit.valid(1));
          assert.ok(first.status >= 200 && first.status < 300, `${provider}: ${first.status} ${first.text}`);
          const counts = await channelCounts(s, kit.channelId);
          assert.equal(counts.events, 1);
          assert.equal(counts.messages, MESSAGE_ROWS[provider] ?? 1);
          assert.equal(counts.conversations, 1);
          const c = await channel();
          assert.equal(c.status, 'active', 'verified traffic activates the channel');
          assert.ok(c.last_event_at && !Number.isNaN(Date.parse(c.last_event_at)));

          await agent.waitFor(() => deliveriesFor().length >= 1);
          // The delivered event's job is deleted with the runner's next claim, a moment later.
          await waitUntil(async () => (await channelCounts(s, kit.channelId)).jobs === 0, 5_000, 'the delivery job removed');
          const retry = await send(await kit.valid(1));
          assert.ok(retry.status >= 200 && retry.status < 300, `${provider} retry: ${retry.status} ${retry.text}`);
          const { jobs: _done, ...stored } = counts; // the delivery job is removed once done
          const { jobs: _again, ...now } = await channelCounts(s, kit.channelId);
          assert.deepEqual(now, stored, 'the retry stored nothing');
          assert.equal(_again, 0, 'no new delivery job for the retry');
          await sleep(300);
          const ds = deliveriesFor();
          assert.equal(ds.length, 1, `${provider}: delivered exactly once`);
          const [d] = ds;
          assert.ok(d.verified, `signature verified by standardwebhooks: ${d.verifyError}`);
          assert.equal(d.body.instance_id, instanceId);
          assert.equal(d.body.channel.provider, provider);
          assert.equal(d.id, d.body.id, 'webhook-id is the event id');
          const events = await s.api('GET', `/v1/instances/${instanceId}/events?after=0&limit=500`);
          assert.equal(events.body.events.filter((e: any) => e.channel_id === kit.channelId && !e.type.startsWith('conversation.')).length, 1);
          if (provider !== 'retell') {
            assert.equal(d.body.type, 'message.received');
            assert.match(JSON.stringify(d.body.data), /hello 1/);
          }
        });
      });
    }
  });
}
