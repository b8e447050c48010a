/**
 * Shared pieces of the inbound end-to-end tests. The provider kits (a channel provisioned through
 * the public API plus requests signed the way the provider signs them) live with each provider in
 * test/providers/<p>/kit.ts and are listed for the contract suite in test/contract/kits.ts; they
 * are re-exported here for the cross-provider tests that use them.
 */
import type { TestServer } from '../helpers/server.js';

export { send, type Kit, type KitContext, type WireRequest, type WireResponse } from '../contract/kit.js';
export { telegramKit } from '../providers/telegram/kit.js';
export { metaBody, metaKit, metaSign } from '../providers/meta_cloud/kit.js';
export { twilioKit } from '../providers/twilio/kit.js';
export { resendKit } from '../providers/resend/kit.js';
export { retellBody, retellKit } from '../providers/retell/kit.js';
export { gmailKit, startGoogleKeys, type GoogleKeys } from '../providers/gmail/kit.js';
export { vonageKit } from '../providers/vonage/kit.js';

export async function waitUntil<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


/** Counts of the rows the inbound pipeline writes for a channel, straight from the store. */
export async function channelCounts(s: TestServer, channelId: string): Promise<{ events: number; messages: number; jobs: number; conversations: number }> {
  const db = s.services.store.db;
  const n = async (table: 'messages' | 'conversations') => Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('channel_id', '=', channelId).executeTakeFirstOrThrow()).n);
  // The provider's events: a conversation's own lifecycle events (conversation.opened when the
  // first message opens it) are left out.
  const ids = (await db.selectFrom('events').select('id').where('channel_id', '=', channelId).where('type', 'not like', 'conversation.%').execute()).map((r) => r.id);
  const events = ids.length;
  const jobs = ids.length ? Number((await db.selectFrom('jobs').select((eb) => eb.fn.countAll<number>().as('n')).where('ref_id', 'in', ids).executeTakeFirstOrThrow()).n) : 0;
  return { events, messages: await n('messages'), jobs, conversations: await n('conversations') };
}

/** Creates an instance pointing at `agentUrl`; returns its id and signing secret. */
export async function createInstance(s: TestServer, agentUrl: string | null, name = 'inbound test'): Promise<{ id: string; signing_secret: string }> {
  const r = await s.api('POST', '/v1/instances', { name, agent_url: agentUrl });
  if (r.status !== 201) throw new Error(`instance create failed: ${r.status} ${r.text}`);
  return r.body;
}

export const PRIVATE_OK = { SWITCHBOARD_ALLOW_PRIVATE_URLS: 'true' };
