/**
 * The outbound half of the provider contract, for every registered provider that sends, each
 * against its strict fake (fakes/<p>.ts, a real local HTTP server), on every store:
 * - the adapter itself: a send returns the provider's message id; every failure is a
 *   ProviderError of the contract's kinds (auth refused -> `auth`, 429 -> `rate_limited` with the
 *   Retry-After the provider gave, 400 -> `permanent`, 503 and a refused connection ->
 *   `retryable`, a timeout or a dropped connection -> `unknown_outcome` unless the adapter declares
 *   its sends idempotent, then `retryable`), none carrying a secret; its rate-limit keys are its
 *   own, shared by one account/identity and distinct for another;
 * - through the server: a reply is sent once; a 429 waits for the provider's Retry-After and then
 *   sends once; refused credentials fail the message and put the channel in `error` with a useful
 *   error_message until a send succeeds; a timeout is an unknown outcome, never sent again, unless
 *   the adapter declares sends idempotent (then it is retried and the provider keeps one).
 * Providers without an outbound part are checked in coverage.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ProviderAdapter, SendContext } from '../../src/adapters/contract.js';
import { providers } from '../../src/adapters/registry.js';
import { PROVIDER_ERROR_KINDS, ProviderError } from '../../src/adapters/shared/provider-error.js';
import { trustedFetch } from '../../src/net/ssrf.js';
import type { FailSpec, RecordedRequest } from '../../fakes/fake-server.js';
import { closedPortUrl } from '../provider-api/helpers.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';
import { startFakeAgent, type FakeAgent } from '../inbound/fake-agent.js';
import { createInstance, PRIVATE_OK } from '../inbound/helpers.js';
import { channelView, messageReaches, send as sendMessage, sleep, until } from '../outbound/helpers.js';
import { send, type KitContext, type OutboundKit } from './kit.js';
import { kitsOf } from './kits.js';

const SENDERS: [ProviderAdapter, (c: KitContext) => Promise<OutboundKit>][] = [];
for (const a of providers()) {
  const k = kitsOf(a.name).outbound;
  if (typeof k === 'function') SENDERS.push([a, k]);
}

/** The send timeout the server and the direct calls use where a test holds the fake's answer. */
const SHORT_TIMEOUT_MS = 400;
/** How long the fake holds that answer: well past the timeout, then it processes the send late. */
const HELD_MS = 1200;

function assertNoSecret(kit: OutboundKit, text: string, what: string): void {
  for (const v of kit.secretValues) assert.ok(!text.includes(v), `${what} must not contain a secret`);
}

for (const kind of storeKinds()) {
  describe(`outbound provider contract on ${kind}`, () => {
    let s: TestServer;
    let agent: FakeAgent;
    let instanceId: string;

    before(async () => {
      agent = await startFakeAgent();
      s = await startServer(kind, { env: PRIVATE_OK, services: { scheduleMs: [50, 100, 200], sendScheduleMs: [50, 50, 50] } });
      const inst = await createInstance(s, agent.url, 'outbound contract');
      instanceId = inst.id;
      agent.secret = inst.signing_secret;
    });
    after(async () => {
      await s.close();
      await agent.close();
    });

    for (const [adapter, start] of SENDERS) {
      const provider = adapter.name;
      const outbound = adapter.outbound!;

      describe(provider, () => {
        let kit: OutboundKit;
        let person = 600;
        let seq = 0;
        before(async () => {
          kit = await start({ s, instanceId });
        });
        after(() => kit.close());

        /** A text no other test sends. */
        const unique = (what: string) => `contract ${what} ${++seq}`;

        /** The requests for the send of `text` the fake received since `from`. */
        const attempts = (from: number, text: string): RecordedRequest[] => {
          const isSend = kit.isSend ?? ((r: RecordedRequest, t: string) => r.path.includes(kit.sendPath) && r.rawBody.includes(t));
          return kit.fake.requests.slice(from).filter((r) => isSend(r, text));
        };

        const sendContext = (over: Partial<SendContext> = {}): SendContext => {
          const d = kit.direct;
          return {
            secrets: d.secrets, settings: d.settings, config: d.config, apiBaseUrl: d.apiBaseUrl, fetch: trustedFetch,
            channelType: d.channelType, externalIdentifier: d.externalIdentifier, conversationKey: d.conversationKey,
            webhookUrl: kit.url, idempotencyKey: randomBytes(8).toString('hex'), timeoutMs: 10_000,
            ...over,
          };
        };

        /** Sends one chunk straight through the adapter; resolves to the thrown ProviderError. */
        async function refused(ctx: SendContext, text: string, what: string): Promise<ProviderError> {
          const err = await outbound.send(ctx, kit.direct.chunk(text)).then(
            () => assert.fail(`${provider} ${what}: the send succeeded`),
            (e: unknown) => e,
          );
          assert.ok(err instanceof ProviderError, `${provider} ${what}: threw ${String(err)} instead of a ProviderError`);
          assert.equal(err.provider, provider, what);
          assert.ok(PROVIDER_ERROR_KINDS.includes(err.kind), `${what}: kind ${err.kind}`);
          assert.ok(err.message.length > 0, `${what}: a message for operators`);
          assertNoSecret(kit, `${err.message} ${JSON.stringify(err)}`, `${what} error`);
          return err;
        }

        /** A person writes in through the real webhook; resolves to the new conversation's id. */
        async function conversation(): Promise<string> {
          const list = async () => (await s.api('GET', `/v1/instances/${instanceId}/conversations?channel_id=${kit.channelId}`)).body.conversations.map((c: any) => c.id as string);
          const before = new Set(await list());
          const n = ++person;
          const r = await send(await kit.valid(n, n));
          assert.ok(r.status >= 200 && r.status < 300, `${provider} inbound: ${r.status} ${r.text}`);
          return until(async () => (await list()).find((id: string) => !before.has(id)), `${provider}: the conversation of person ${n}`);
        }

        const fail = (spec: FailSpec) => kit.fake.failNext({ match: kit.sendPath, ...spec });

        // ------------------------------------------------------------------ the adapter itself

        test('adapter: a send returns the provider message id and the fake accepts it once', async () => {
          assert.ok(adapter.channelTypes.includes(kit.direct.channelType), `${kit.direct.channelType} is a channel type of ${provider}`);
          const text = unique('direct');
          const r = await outbound.send(sendContext(), kit.direct.chunk(text));
          assert.equal(typeof r.providerMessageId, 'string');
          assert.ok(r.providerMessageId.length > 0);
          assert.equal(kit.delivered(text), 1);
        });

        test('adapter: failures are ProviderErrors of the contract kinds, without secrets', async () => {
          // Refused credentials.
          if (kit.refuseAuth) kit.refuseAuth();
          else fail({ status: 401 });
          assert.equal((await refused(sendContext(), unique('auth'), 'auth refused')).kind, 'auth');

          // Rate limited: the wait is the one the provider gave (kit.rateLimit names an exception and why).
          fail({ status: 429, retryAfter: 2 });
          const limited = await refused(sendContext(), unique('limited'), '429');
          assert.equal(limited.kind, kit.rateLimit?.kind ?? 'rate_limited', kit.rateLimit?.why);
          assert.ok(limited.safeToRetry);
          assert.equal(limited.retryAfterMs, kit.rateLimit?.retryAfterMs ?? 2000, kit.rateLimit?.why ?? 'retry-after as the provider gave it');

          fail({ status: 400 });
          assert.equal((await refused(sendContext(), unique('bad request'), '400')).kind, 'permanent');

          // The provider said it did not take the request: safe to send again.
          fail({ status: 503 });
          assert.equal((await refused(sendContext(), unique('unavailable'), '503')).kind, 'retryable');
          assert.equal((await refused(sendContext({ apiBaseUrl: await closedPortUrl() }), unique('refused'), 'connection refused')).kind, 'retryable');
        });

        test(`adapter: a timeout or a dropped connection is ${outbound.idempotent ? 'retryable (sends are idempotent)' : 'an unknown outcome'}`, async () => {
          const want = outbound.idempotent ? 'retryable' : 'unknown_outcome';
          fail({ timeoutMs: HELD_MS });
          assert.equal((await refused(sendContext({ timeoutMs: SHORT_TIMEOUT_MS }), unique('timeout'), 'timeout')).kind, want);
          fail({ dropConnection: true });
          assert.equal((await refused(sendContext(), unique('dropped'), 'dropped connection')).kind, want);
        });

        test('adapter: rate-limit keys are its own, shared by one account and identity, distinct for another', () => {
          const ctx = sendContext();
          const keys = outbound.rateLimits(ctx);
          assert.ok(keys.length > 0, `${provider} declares its rate limits`);
          for (const b of keys) {
            assert.ok(b.key.startsWith(`${provider}:`), `${b.key} starts with the provider name`);
            assert.ok(b.burst >= 1 && b.perSecond > 0, `${b.key}: a usable bucket`);
            assertNoSecret(kit, b.key, 'a rate-limit key');
          }
          assert.deepEqual(outbound.rateLimits(sendContext()).map((b) => b.key), keys.map((b) => b.key), 'stable for the same send');
          const otherPerson = outbound.rateLimits(sendContext({ conversationKey: kit.direct.otherConversationKey }));
          assert.ok(otherPerson.some((b) => keys.some((k) => k.key === b.key)), 'one account/identity shares a bucket across conversations');
          const o = kit.direct.other;
          const other = outbound.rateLimits(sendContext({ secrets: o.secrets, settings: o.settings, config: o.config, externalIdentifier: o.externalIdentifier }));
          assert.ok(other.length > 0);
          for (const b of other) assert.ok(!keys.some((k) => k.key === b.key), `${b.key}: another account and identity has buckets of its own`);
        });

        // ------------------------------------------------------------------ through the server

        test('server: a reply is sent once, with the provider message id', async () => {
          const conv = await conversation();
          const text = unique('reply');
          const r = await sendMessage(s, instanceId, conv, { text });
          const m = await messageReaches(s, instanceId, r.body.id, 'sent');
          assert.ok(m.provider_message_id, 'the provider message id is kept');
          assert.equal(kit.delivered(text), 1);
          assert.equal((await channelView(s, instanceId, kit.channelId)).status, 'active');
        });

        test('server: a 429 waits for the Retry-After the provider gave, then sends once', async () => {
          const conv = await conversation();
          const text = unique('after the limit');
          const from = kit.fake.requests.length;
          fail({ status: 429, retryAfter: 1 });
          const r = await sendMessage(s, instanceId, conv, { text });
          await messageReaches(s, instanceId, r.body.id, 'sent');
          const hits = attempts(from, text);
          assert.equal(hits.length, 2, 'the refused attempt and the one after the wait');
          // A lower bound only: the wait is at least what the provider asked for.
          assert.ok(hits[1].receivedAt - hits[0].receivedAt >= 900, `waited ${hits[1].receivedAt - hits[0].receivedAt} ms`);
          assert.equal(kit.delivered(text), 1);
        });

        test('server: refused credentials put the channel in error with a useful message until a send succeeds', async () => {
          const conv = await conversation();
          if (kit.refuseAuth) kit.refuseAuth();
          else fail({ status: 401 });
          const bad = await sendMessage(s, instanceId, conv, { text: unique('refused') });
          const m = await messageReaches(s, instanceId, bad.body.id, 'failed');
          assert.equal(m.error.kind, 'auth');
          const ch = await until(async () => {
            const c = await channelView(s, instanceId, kit.channelId);
            return c.status === 'error' ? c : undefined;
          }, `${provider}: the channel in error`);
          assert.equal(typeof ch.error_message, 'string');
          assert.ok(ch.error_message.includes(adapter.displayName), `names the provider as people know it: ${ch.error_message}`);
          assert.match(ch.error_message, /credential|secret|token|key/i, 'says what to fix');
          assertNoSecret(kit, ch.error_message, 'the channel error_message');

          const text = unique('works again');
          const good = await sendMessage(s, instanceId, conv, { text });
          await messageReaches(s, instanceId, good.body.id, 'sent');
          await until(async () => (await channelView(s, instanceId, kit.channelId)).status === 'active', `${provider}: the channel recovered`);
          assert.equal(kit.delivered(text), 1);
        });

        test(`server: a timeout ${outbound.idempotent ? 'is retried (idempotent sends) and the provider keeps one' : 'is an unknown outcome: failed, never sent again'}`, async () => {
          const conv = await conversation();
          const text = unique('maybe');
          const from = kit.fake.requests.length;
          s.services.contexts.timeoutMs = SHORT_TIMEOUT_MS;
          try {
            fail({ timeoutMs: HELD_MS }); // held, then processed: the provider did send it
            const r = await sendMessage(s, instanceId, conv, { text });
            if (outbound.idempotent) {
              await messageReaches(s, instanceId, r.body.id, 'sent');
              assert.ok(attempts(from, text).length >= 2, 'retried after the timeout');
            } else {
              const m = await messageReaches(s, instanceId, r.body.id, 'failed');
              assert.equal(m.error.kind, 'unknown_outcome');
            }
            // Let the held request finish at the fake before counting.
            await until(() => kit.delivered(text) >= 1, `${provider}: the late send processed`, HELD_MS * 5);
            await sleep(300);
            if (!outbound.idempotent) assert.equal(attempts(from, text).length, 1, 'no second attempt');
            assert.equal(kit.delivered(text), 1, 'the provider has it once');
          } finally {
            s.services.contexts.timeoutMs = 15_000;
          }
        });
      });
    }
  });
}
