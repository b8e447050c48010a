/**
 * The one resolver for what an adapter call needs about a channel or account: the account row,
 * its decrypted secrets and settings, the API base URL (account setting, else the adapter's
 * env/default from config) and the right HTTP client. Webhooks, sends, provisioning and voice
 * all build their contexts here, so the SSRF rule below exists once:
 * anything in a customer's connection settings is tenant input and goes through the guarded
 * client; the operator's (platform credentials, environment) is trusted.
 */
import type { AdapterContext, ApiContext, ProviderAdapter, ProvisionContext, SendContext } from '../adapters/contract.js';
import type { ChannelType } from '../adapters/channel-types.js';
import type { Config } from '../config.js';
import { trustedFetch } from '../net/ssrf.js';
import type { AccountRow } from '../store/repos/accounts.js';
import type { ChannelRow } from '../store/repos/channels.js';
import { threadKeyOf, type ConversationRow } from '../store/repos/inbox.js';
import type { Repos } from '../store/repos/index.js';
import type { AccountsService } from './accounts.js';
import type { ChannelWebhooks } from './channels.js';

export class ChannelContexts {
  /** How long one provider call may take before its outcome counts as unknown (tests shorten it). */
  timeoutMs = 15_000;

  constructor(
    private readonly config: Config,
    private readonly repos: Repos,
    private readonly accounts: AccountsService,
    private readonly channels: Pick<ChannelWebhooks, 'webhookUrl' | 'webhookSecret'>,
    private readonly guardedFetch: typeof fetch,
  ) {}

  /** The account behind a channel: its connection, else its platform credential. */
  async accountOf(channel: ChannelRow): Promise<AccountRow | undefined> {
    const id = channel.connection_id ?? channel.credential_id;
    return id ? this.repos.accounts.get(id) : undefined;
  }

  /** Secrets, settings, config, base URL and client for one provider + account (+ channel). */
  api(provider: string, account: AccountRow | undefined, channel: ChannelRow | undefined): ApiContext {
    const settings = account ? (JSON.parse(account.settings) as Record<string, unknown>) : {};
    const customBase = typeof settings.api_base_url === 'string' ? settings.api_base_url.replace(/\/+$/, '') : undefined;
    return {
      secrets: account ? this.accounts.decryptSecrets(account) : {},
      settings,
      config: channel ? (JSON.parse(channel.config) as Record<string, unknown>) : {},
      apiBaseUrl: customBase ?? this.config.providerApi[provider] ?? '',
      // Every setting of a customer's connection is tenant input (api_base_url, Gmail's
      // oauth_token_url and jwks_url...): all its calls go through the SSRF guard, which trusts
      // the operator's SWITCHBOARD_*_API_URL origins. A platform credential's are the operator's.
      fetch: account?.kind === 'connection' ? this.guardedFetch : trustedFetch,
      shared: account?.kind === 'credential',
    };
  }

  /** The secret a provider's requests are verified with: the channel's webhook_secret, else the account's. */
  verifySecret(adapter: ProviderAdapter, secrets: Record<string, string>, channel: ChannelRow | undefined): string | undefined {
    const channelSecret = channel ? this.channels.webhookSecret(channel) : undefined;
    return channelSecret ?? (adapter.secrets.verify ? secrets[adapter.secrets.verify] : undefined);
  }

  /** For inbound webhooks (the account is already known: channel or account URL). */
  inbound(adapter: ProviderAdapter, account: AccountRow | undefined, channel: ChannelRow | undefined): AdapterContext {
    const base = this.api(adapter.name, account, channel);
    return { ...base, verifySecret: this.verifySecret(adapter, base.secrets, channel), now: Date.now };
  }

  /** For a send into one conversation of a channel. */
  async send(channel: ChannelRow, conversationKey: string, idempotencyKey: string): Promise<SendContext> {
    const base = this.api(channel.provider, await this.accountOf(channel), channel);
    return {
      ...base,
      channelType: channel.channel_type as ChannelType,
      externalIdentifier: channel.external_identifier,
      conversationKey,
      webhookUrl: this.channels.webhookUrl(channel.id),
      idempotencyKey,
      timeoutMs: this.timeoutMs,
    };
  }

  forConversation(channel: ChannelRow, conv: ConversationRow, idempotencyKey: string): Promise<SendContext> {
    return this.send(channel, threadKeyOf(conv), idempotencyKey);
  }

  /** For registering a channel with its provider. */
  async provision(channel: ChannelRow): Promise<ProvisionContext> {
    const base = this.api(channel.provider, await this.accountOf(channel), channel);
    return {
      ...base,
      channelId: channel.id,
      channelType: channel.channel_type as ChannelType,
      externalIdentifier: channel.external_identifier,
      publicUrl: this.config.publicUrl,
      webhookUrl: this.channels.webhookUrl(channel.id),
      webhookSecret: this.channels.webhookSecret(channel),
      timeoutMs: this.timeoutMs,
    };
  }
}
