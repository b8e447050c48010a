/**
 * Inbound webhooks, end to end: find the channel (or the account and then the channel by the
 * identity in the payload), build the adapter context from its secrets, verify fail-closed, parse,
 * and commit through the inbox before answering. Framework-free: the route passes a RawRequest.
 */
import type { Config } from '../config.js';
import { ProviderFetchError } from '../adapters/shared/errors.js';
import { getAdapter } from '../adapters/registry.js';
import { PayloadError, type AdapterContext, type InboundAdapter, type RawRequest, type WebhookReply } from '../adapters/types.js';
import type { AccountRow } from '../store/repos/accounts.js';
import type { ChannelRow } from '../store/repos/channels.js';
import { ReadCache } from '../store/read-cache.js';
import type { WriteWatch } from '../store/write-watch.js';
import type { Repos } from '../store/repos/index.js';
import type { AccountsService } from './accounts.js';
import { canonicalIdentity, storedIdentities } from './channel-identity.js';
import type { ChannelsService } from './channels.js';
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
    private readonly config: Config,
    private readonly repos: Repos,
    private readonly accounts: AccountsService,
    private readonly channels: ChannelsService,
    private readonly inbox: Inbox,
    private readonly metrics: WebhookMetrics,
    private readonly fetchForTenant: typeof fetch,
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

  private context(adapter: InboundAdapter, account: AccountRow | undefined, channel: ChannelRow | undefined): AdapterContext {
    const secrets = account ? this.accounts.decryptSecrets(account) : {};
    const settings = account ? (JSON.parse(account.settings) as Record<string, unknown>) : {};
    const channelSecret = channel ? this.channels.webhookSecret(channel) : undefined;
    const accountSecret = adapter.verifySecretName ? secrets[adapter.verifySecretName] : undefined;
    const customBase = typeof settings.api_base_url === 'string' ? settings.api_base_url.replace(/\/+$/, '') : undefined;
    // A customer's own base URL is tenant input: it goes through the SSRF guard. The operator's
    // (credentials, environment) is trusted.
    const useGuard = customBase !== undefined && account?.kind === 'connection';
    return {
      verifySecret: channelSecret ?? accountSecret,
      secrets,
      settings,
      config: channel ? (JSON.parse(channel.config) as Record<string, unknown>) : {},
      apiBaseUrl: customBase ?? this.config.providerApi[adapter.provider] ?? '',
      now: Date.now,
      fetch: useGuard ? this.fetchForTenant : fetch,
    };
  }

  async channelWebhook(channelId: string | undefined, raw: RawRequest): Promise<WebhookReply> {
    const channel = channelId ? await this.channelRows.get(channelId, () => this.repos.channels.get(channelId)) : undefined;
    const adapter = channel ? getAdapter(channel.provider) : undefined;
    if (!channel || !adapter) return reply(404, 'Unknown webhook endpoint');
    const ctx = this.context(adapter, await this.accountOf(channel), channel);

    if (raw.method === 'GET') {
      if (!adapter.handshake) return reply(405, 'This provider does not use GET webhooks');
      const r = adapter.handshake(raw, ctx);
      this.metrics.handshake(adapter.provider, r.status);
      return r;
    }
    const parsed = await this.verifiedEvents(adapter, raw, ctx);
    if ('status' in parsed) return parsed;
    if (channel.enabled !== 1) {
      // Acknowledged so the provider stops retrying; the channel's status already says "disabled".
      this.metrics.dropped(adapter.provider, parsed.length);
      return adapter.ack?.() ?? OK;
    }
    await this.commit(adapter, channel, parsed);
    await this.rememberCursor(adapter, channel, raw);
    return adapter.ack?.() ?? OK;
  }

  /**
   * One URL per connection/credential, for providers configured per app or account (Meta, Resend,
   * Retell, Gmail): each event goes to the channel whose identity it names.
   */
  async accountWebhook(accountId: string | undefined, raw: RawRequest): Promise<WebhookReply> {
    const account = accountId ? await this.accountRows.get(accountId, () => this.repos.accounts.get(accountId)) : undefined;
    const adapter = account ? getAdapter(account.provider) : undefined;
    if (!account || !adapter) return reply(404, 'Unknown webhook endpoint');
    const channels = (await this.repos.channels.listByAccount(account.id)).filter((c) => c.provider === account.provider);
    const ctx = this.context(adapter, account, undefined);
    if (raw.method === 'GET') {
      if (!adapter.handshake) return reply(405, 'This provider does not use GET webhooks');
      // Meta's handshake: any of the account's channels may hold the verify token.
      for (const c of channels) {
        const r = adapter.handshake(raw, this.context(adapter, account, c));
        if (r.status === 200) return r;
      }
      return adapter.handshake(raw, ctx);
    }
    const parsed = await this.verifiedEvents(adapter, raw, ctx);
    if ('status' in parsed) return parsed;
    const byChannel = new Map<ChannelRow, InboundEvent[]>();
    for (const e of parsed) {
      const c = routeEvent(account, channels, e.channelIdentity);
      if (!c) {
        this.metrics.unrouted(adapter.provider);
        continue;
      }
      if (c.enabled !== 1) {
        this.metrics.dropped(adapter.provider, 1);
        continue;
      }
      byChannel.set(c, [...(byChannel.get(c) ?? []), e]);
    }
    for (const [c, events] of byChannel) await this.commit(adapter, c, events);
    if (adapter.configAfterCommit) {
      const probe = adapter.configAfterCommit(raw, {});
      const c = probe ? routeEvent(account, channels, probe.identity) : undefined;
      if (c) await this.rememberCursor(adapter, c, raw);
    }
    return adapter.ack?.() ?? OK;
  }

  /** Verification first (fail closed: a refusal changes nothing but a counter), then parsing. */
  private async verifiedEvents(adapter: InboundAdapter, raw: RawRequest, ctx: AdapterContext): Promise<InboundEvent[] | WebhookReply> {
    const v = await adapter.verify(raw, ctx);
    if (!v.ok) {
      this.metrics.rejected(adapter.provider, v.status);
      return reply(v.status, v.reason);
    }
    try {
      return await adapter.parse(raw, ctx);
    } catch (err) {
      if (err instanceof PayloadError) {
        this.metrics.malformed(adapter.provider);
        return reply(400, err.message);
      }
      if (err instanceof ProviderFetchError) {
        // The request was fine but we could not complete it: 503 so the provider retries later.
        return reply(503, `Could not fetch the event's content from ${adapter.provider}; retry later`);
      }
      throw err;
    }
  }

  private async rememberCursor(adapter: InboundAdapter, channel: ChannelRow, raw: RawRequest): Promise<void> {
    if (!adapter.configAfterCommit) return;
    const fresh = await this.repos.channels.get(channel.id);
    if (!fresh) return;
    const config = JSON.parse(fresh.config) as Record<string, unknown>;
    const r = adapter.configAfterCommit(raw, config);
    if (r) await this.repos.channels.update(channel.id, { config: JSON.stringify({ ...config, ...r.patch }) });
  }

  private async commit(adapter: InboundAdapter, channel: ChannelRow, events: InboundEvent[]): Promise<void> {
    const r = await this.inbox.ingest(channel, events);
    this.metrics.accepted(adapter.provider, r.stored, r.duplicates);
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
