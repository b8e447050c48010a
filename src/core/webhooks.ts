/**
 * Inbound webhooks, end to end: find the channel (or the account and then the channel by the
 * identity in the payload), build the adapter context from its secrets, verify fail-closed, parse,
 * and commit through the inbox before answering. Framework-free: the route passes a RawRequest.
 */
import { MAX_JSON_DEPTH, jsonTooDeepAt } from '../json-limits.js';
import { ProviderFetchError } from '../adapters/shared/errors.js';
import { getProvider } from '../adapters/registry.js';
import { PayloadError, type AdapterContext, type InboundPart, type ProviderAdapter, type RawRequest, type WebhookReply } from '../adapters/contract.js';
import type { AccountRow } from '../store/repos/accounts.js';
import type { ChannelRow } from '../store/repos/channels.js';
import { ReadCache } from '../store/read-cache.js';
import type { WriteWatch } from '../store/write-watch.js';
import type { Repos } from '../store/repos/index.js';
import { canonicalIdentity, storedIdentities } from './channel-identity.js';
import type { ChannelContexts } from './channel-context.js';
import type { InboundEvent } from './events.js';
import type { Inbox } from './inbox.js';
import type { WebhookMetrics } from './metrics.js';

const OK: WebhookReply = { status: 200, contentType: 'application/json', body: '{"ok":true}' };

function reply(status: number, detail: string): WebhookReply {
  return { status, contentType: 'application/json', body: JSON.stringify({ detail }) };
}

export class Webhooks {
  /** Channel and account rows by id, while unchanged (SQLite; see store/read-cache.ts). */
  private readonly channelRows: ReadCache<ChannelRow>;
  private readonly accountRows: ReadCache<AccountRow>;

  constructor(
    private readonly repos: Repos,
    private readonly contexts: ChannelContexts,
    private readonly inbox: Inbox,
    private readonly metrics: WebhookMetrics,
    writes?: WriteWatch,
  ) {
    this.channelRows = new ReadCache(writes, ['channels']);
    this.accountRows = new ReadCache(writes, ['accounts']);
  }

  /** The account behind a channel (its connection, else its platform credential). */
  private async accountOf(channel: ChannelRow): Promise<AccountRow | undefined> {
    const id = channel.connection_id ?? channel.credential_id;
    return id ? this.accountRows.get(id, () => this.repos.accounts.get(id)) : undefined;
  }

  /**
   * A request to a channel's webhook URL. `internal`: the caller is Switchboard's own gate for a
   * provider whose events may not come in at the public URL (web chat; see `publicWebhook`).
   */
  async channelWebhook(channelId: string | undefined, raw: RawRequest, opts: { internal?: boolean } = {}): Promise<WebhookReply> {
    const channel = channelId ? await this.channelRows.get(channelId, () => this.repos.channels.get(channelId)) : undefined;
    const adapter = channel ? getProvider(channel.provider) : undefined;
    const inbound = adapter?.inbound;
    if (!channel || !adapter || !inbound) return reply(404, 'Unknown webhook endpoint');
    if (adapter.publicWebhook === false && !opts.internal) return reply(404, 'Unknown webhook endpoint');
    const ctx = this.contexts.inbound(adapter, await this.accountOf(channel), channel);

    if (raw.method === 'GET') {
      if (!inbound.handshake) return reply(405, 'This provider does not use GET webhooks');
      const r = inbound.handshake(raw, ctx);
      this.metrics.handshake(adapter.name, r.status);
      return r;
    }
    const parsed = await this.verifiedEvents(adapter, inbound, raw, ctx);
    if ('status' in parsed) return parsed;
    if (channel.enabled !== 1) {
      // Acknowledged so the provider stops retrying; the channel's status already says "disabled".
      this.metrics.dropped(adapter.name, parsed.length);
      return inbound.ack?.() ?? OK;
    }
    await this.commit(adapter, channel, parsed);
    await this.rememberCursor(inbound, channel, raw);
    return inbound.ack?.() ?? OK;
  }

  /**
   * One URL per connection/credential, for providers configured per app or account (Meta, Resend,
   * Retell, Gmail): each event goes to the channel whose identity it names.
   */
  async accountWebhook(accountId: string | undefined, raw: RawRequest): Promise<WebhookReply> {
    const account = accountId ? await this.accountRows.get(accountId, () => this.repos.accounts.get(accountId)) : undefined;
    const adapter = account ? getProvider(account.provider) : undefined;
    const inbound = adapter?.inbound;
    if (!account || !adapter || !inbound) return reply(404, 'Unknown webhook endpoint');
    // The account's channels of its own provider (a channel can only use an account of its provider).
    const channels = (await this.repos.channels.listByAccount(account.id)).filter((c) => c.provider === adapter.name);
    const ctx = this.contexts.inbound(adapter, account, undefined);
    if (raw.method === 'GET') {
      if (!inbound.handshake) return reply(405, 'This provider does not use GET webhooks');
      // Meta's handshake: any of the account's channels may hold the verify token.
      for (const c of channels) {
        const r = inbound.handshake(raw, this.contexts.inbound(adapter, account, c));
        if (r.status === 200) return r;
      }
      return inbound.handshake(raw, ctx);
    }
    const parsed = await this.verifiedEvents(adapter, inbound, raw, ctx);
    if ('status' in parsed) return parsed;
    const byChannel = new Map<ChannelRow, InboundEvent[]>();
    for (const e of parsed) {
      const c = routeEvent(account, channels, e.channelIdentity);
      if (!c) {
        this.metrics.unrouted(adapter.name);
        continue;
      }
      if (c.enabled !== 1) {
        this.metrics.dropped(adapter.name, 1);
        continue;
      }
      byChannel.set(c, [...(byChannel.get(c) ?? []), e]);
    }
    for (const [c, events] of byChannel) await this.commit(adapter, c, events);
    if (inbound.configAfterCommit) {
      const probe = inbound.configAfterCommit(raw, {});
      const c = probe ? routeEvent(account, channels, probe.identity) : undefined;
      if (c) await this.rememberCursor(inbound, c, raw);
    }
    return inbound.ack?.() ?? OK;
  }

  /** Verification first (fail closed: a refusal changes nothing but a counter), then parsing. */
  private async verifiedEvents(adapter: ProviderAdapter, inbound: InboundPart, raw: RawRequest, ctx: AdapterContext): Promise<InboundEvent[] | WebhookReply> {
    const v = await inbound.verify(raw, ctx);
    if (!v.ok) {
      this.metrics.rejected(adapter.name, v.status);
      return reply(v.status, v.reason);
    }
    const deep = jsonTooDeepAt(raw.body.toString('latin1'));
    if (deep >= 0) {
      // Refused before any parser or walker sees it (they would recurse): 400, nothing stored.
      this.metrics.malformed(adapter.name);
      return reply(400, `body nests deeper than ${MAX_JSON_DEPTH} levels (at byte ${deep})`);
    }
    try {
      return await inbound.parse(raw, ctx);
    } catch (err) {
      if (err instanceof PayloadError) {
        this.metrics.malformed(adapter.name);
        return reply(400, err.message);
      }
      if (err instanceof ProviderFetchError) {
        // The request was fine but we could not complete it: 503 so the provider retries later.
        return reply(503, `Could not fetch the event's content from ${adapter.displayName}; retry later`);
      }
      throw err;
    }
  }

  private async rememberCursor(adapter: InboundPart, channel: ChannelRow, raw: RawRequest): Promise<void> {
    if (!adapter.configAfterCommit) return;
    const fresh = await this.repos.channels.get(channel.id);
    if (!fresh) return;
    const config = JSON.parse(fresh.config) as Record<string, unknown>;
    const r = adapter.configAfterCommit(raw, config);
    if (r) await this.repos.channels.update(channel.id, { config: JSON.stringify({ ...config, ...r.patch }) });
  }

  private async commit(adapter: ProviderAdapter, channel: ChannelRow, events: InboundEvent[]): Promise<void> {
    const r = await this.inbox.ingest(channel, events);
    this.metrics.accepted(adapter.name, r.stored, r.duplicates);
  }
}

/**
 * The channel an account-level event is for: the one whose canonical identities (external
 * identifier and routing config keys, unique per provider across the installation) include the
 * identity the event names. An event naming none goes to the account's only channel, but only on
 * a customer's own connection: a platform credential is shared by tenants, and a guess there
 * could hand one tenant's traffic to another.
 */
export function routeEvent(account: Pick<AccountRow, 'kind' | 'provider'>, channels: ChannelRow[], identity: string | undefined): ChannelRow | undefined {
  if (!identity) return account.kind === 'connection' && channels.length === 1 ? channels[0] : undefined;
  const want = canonicalIdentity(account.provider, identity);
  if (!want) return undefined;
  return channels.find((c) => storedIdentities(c).includes(want));
}
