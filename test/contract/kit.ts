/**
 * What a provider's test kit (test/providers/<p>/kit.ts) gives the provider contract suite
 * (test/contract/): an inbound half that provisions a channel through the public API and signs
 * requests the way the provider signs them (with its official SDK where one exists), and an
 * outbound half that points the channel's account at the provider's strict fake (fakes/<p>.ts).
 * test/contract/kits.ts lists one entry per registered provider.
 */
import { request as httpRequest } from 'node:http';
import type { ChannelType, OutboundChunk } from '../../src/adapters/contract.js';
import type { FakeServer, RecordedRequest } from '../../fakes/fake-server.js';
import type { TestServer } from '../helpers/server.js';

export interface WireRequest {
  url: string;
  method?: string;
  headers: Record<string, string>;
  body: string | Buffer;
}

export interface WireResponse {
  status: number;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Sends a request with node:http so that any status (413 mid-upload included) is observed
 * instead of a fetch-level socket error. A reset after the server answered still yields its status.
 */
export function send(r: WireRequest): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
    const req = httpRequest(r.url, { method: r.method ?? 'POST', headers: { ...r.headers, 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', (err) => reject(err));
    req.end(body);
  });
}

/** The inbound half: a channel on the server and requests signed for it. */
export interface Kit {
  provider: string;
  channelId: string;
  /** Where the provider posts (the channel's webhook_url, or the account URL for per-account kits). */
  url: string;
  /**
   * A valid request for the n-th distinct event (n >= 1). `conv` picks the conversation (default 1).
   * Calling it twice with the same n and conv produces the provider's retry of the same event.
   */
  valid(n: number, conv?: number): Promise<WireRequest>;
  /** Variants that must be refused and change nothing; `undefined` = not applicable to this scheme. */
  badSignature(n: number): Promise<WireRequest>;
  missingSignature(n: number): Promise<WireRequest | undefined>;
  staleSignature(n: number): Promise<WireRequest | undefined>;
  /** Signs an arbitrary body the way the provider would (for malformed-body tests), keeping `contentType`. */
  signRaw(body: Buffer, contentType: string): Promise<WireRequest>;
  /** The JSON-ness of the provider's own bodies (junk for "wrong content type" differs). */
  format: 'json' | 'form';
  /**
   * The provider's subscription handshake (Meta's GET hub.challenge), where it has one: a request
   * that must be answered with `answer`, and one with a wrong token that must be refused.
   */
  handshake?: { valid: WireRequest; answer: string; wrongToken: WireRequest };
  close(): Promise<void>;
}

export interface KitContext {
  s: TestServer;
  instanceId: string;
  /** Suffix keeping identities unique when one server hosts several kits of a provider. */
  tag?: string;
}

/** What the suite needs to call `adapter.outbound` directly against the fake. */
export interface DirectSend {
  channelType: ChannelType;
  externalIdentifier: string;
  secrets: Record<string, string>;
  settings: Record<string, unknown>;
  config: Record<string, unknown>;
  apiBaseUrl: string;
  /** A person the fake accepts messages to, and another one. */
  conversationKey: string;
  otherConversationKey: string;
  /** One chunk carrying `text`, as core would hand it to this provider (email needs its envelope). */
  chunk(text: string): OutboundChunk;
  /** Another account and channel identity of the provider: its rate-limit keys must not collide. */
  other: { secrets: Record<string, string>; settings: Record<string, unknown>; config: Record<string, unknown>; externalIdentifier: string };
}

/**
 * The outbound half: the inbound kit of a channel whose account points at the provider's strict
 * fake, so the suite can make a person write in (`valid`) and answer them through the real API.
 */
export interface OutboundKit extends Kit {
  fake: FakeServer;
  /** A path substring of the provider's send call (for `fake.failNext({ match })`). */
  sendPath: string;
  /** The account's secret values: none may appear in an error message or the channel status. */
  secretValues: string[];
  /** How many messages the fake accepted whose text contains `text`. */
  delivered(text: string): number;
  /** Whether a request the fake received is an attempt to send `text`. Default: a `sendPath` request whose raw body contains it. */
  isSend?(r: RecordedRequest, text: string): boolean;
  /**
   * Makes the fake refuse the next send for bad credentials. Default: one 401 on `sendPath`
   * (Gmail's client refreshes its access token once, so its kit queues two).
   */
  refuseAuth?(): void;
  /**
   * Where the adapter reads the fake's 429 other than the default (`rate_limited`, waiting the
   * Retry-After the fake gave), what it does instead and why (the provider's documentation).
   */
  rateLimit?: { kind?: 'retryable'; retryAfterMs?: number; why: string };
  direct: DirectSend;
}

export async function createChannel(s: TestServer, instanceId: string, body: Record<string, unknown>): Promise<{ id: string; webhook_url: string }> {
  const r = await s.api('POST', `/v1/instances/${instanceId}/channels`, body);
  if (r.status !== 201) throw new Error(`channel create failed: ${r.status} ${r.text}`);
  return r.body;
}

export async function createConnection(s: TestServer, instanceId: string, body: Record<string, unknown>): Promise<{ id: string; webhook_url: string }> {
  const r = await s.api('POST', `/v1/instances/${instanceId}/connections`, body);
  if (r.status !== 201) throw new Error(`connection create failed: ${r.status} ${r.text}`);
  return r.body;
}

export const noop = async (): Promise<void> => undefined;
