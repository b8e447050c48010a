/**
 * Channel health from real signals: a provider refusing our credentials puts the channel in
 * `error` with a plain explanation and tells the agent; the next successful call clears it.
 */
import { getProvider } from '../../adapters/registry.js';
import type { ProviderError } from '../../adapters/shared/provider-error.js';
import type { ChannelRow } from '../../store/repos/channels.js';
import type { Repos } from '../../store/repos/index.js';
import type { Inbox } from '../inbox.js';

export class ChannelHealth {
  constructor(
    private readonly repos: Repos,
    private readonly inbox: Inbox,
  ) {}

  async authFailed(channel: ChannelRow, e: ProviderError): Promise<void> {
    // The provider as people know it, from its adapter (core keeps no provider list of its own).
    const name = getProvider(e.provider)?.displayName ?? e.provider;
    const message = `${name} refused the channel's credentials (${e.code}): ${e.message}. Update the connection's secrets, then the next successful send clears this.`;
    await this.setError(channel, message);
  }

  async setError(channel: ChannelRow, message: string): Promise<void> {
    const now = new Date().toISOString();
    await this.repos.channels.update(channel.id, { status: 'error', error_message: message, updated_at: now });
    await this.inbox.emit(channel, null, 'channel.error', { kind: 'channel_error', status: 'error', error_message: message }, `channel-error:${channel.id}:${now}`);
  }

  async succeeded(channel: ChannelRow): Promise<void> {
    const fresh = await this.repos.channels.get(channel.id);
    if (fresh?.status !== 'error') return;
    const now = new Date().toISOString();
    await this.repos.channels.update(channel.id, { status: 'active', error_message: null, updated_at: now });
    await this.inbox.emit(channel, null, 'channel.recovered', { kind: 'channel_recovered', status: 'active' }, `channel-ok:${channel.id}:${now}`);
  }
}
