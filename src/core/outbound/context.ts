/** Builds what a sender needs for one channel + conversation: secrets, base URL, identity. */
import type { Config } from '../../config.js';
import type { SendContext } from '../../adapters/types.js';
import type { AccountsService } from '../accounts.js';
import type { ChannelsService } from '../channels.js';
import type { ChannelType } from '../channel-types.js';
import type { ChannelRow } from '../../store/repos/channels.js';
import type { ConversationRow } from '../../store/repos/inbox.js';
import type { Repos } from '../../store/repos/index.js';

export class SendContextFactory {
  /** How long one provider call may take before its outcome counts as unknown (tests shorten it). */
  timeoutMs = 15_000;

  constructor(
    private readonly config: Config,
    private readonly repos: Repos,
    private readonly accounts: AccountsService,
    private readonly channels: ChannelsService,
    private readonly guardedFetch: typeof fetch,
  ) {}

  async build(channel: ChannelRow, conversationKey: string, idempotencyKey: string): Promise<SendContext> {
    const accountId = channel.connection_id ?? channel.credential_id;
    const account = accountId ? await this.repos.accounts.get(accountId) : undefined;
    const settings = account ? (JSON.parse(account.settings) as Record<string, unknown>) : {};
    const customBase = typeof settings.api_base_url === 'string' ? settings.api_base_url.replace(/\/+$/, '') : undefined;
    return {
      secrets: account ? this.accounts.decryptSecrets(account) : {},
      settings,
      config: JSON.parse(channel.config) as Record<string, unknown>,
      apiBaseUrl: customBase ?? this.config.providerApi[channel.provider] ?? '',
      // A customer's own API base URL is tenant input and goes through the SSRF guard.
      fetch: customBase && account?.kind === 'connection' ? this.guardedFetch : fetch,
      channelType: channel.channel_type as ChannelType,
      externalIdentifier: channel.external_identifier,
      conversationKey,
      webhookUrl: this.channels.webhookUrl(channel.id),
      idempotencyKey,
      timeoutMs: this.timeoutMs,
    };
  }

  forConversation(channel: ChannelRow, conv: ConversationRow, idempotencyKey: string): Promise<SendContext> {
    return this.build(channel, conv.key, idempotencyKey);
  }
}
