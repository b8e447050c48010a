/**
 * Registering channels with their providers, where the provider allows it: each adapter's
 * `provision` part says how (adapters/<p>/provision.ts); this file runs it and records the result.
 * Registrations that lapse (`provision.renew`, e.g. Gmail watches) are renewed by `renewDue`, run
 * periodically by services. A failure never fails the API call: the channel goes to
 * `status: "error"` with a plain `error_message`, which the next successful provisioning or send clears.
 */
import type { Logger } from 'pino';
import { ProvisionRefused, type ProviderAdapter, type ProvisionContext } from '../adapters/contract.js';
import { getProvider, providers } from '../adapters/registry.js';
import { ProviderError } from '../adapters/shared/provider-error.js';
import type { ChannelRow } from '../store/repos/channels.js';
import type { Repos } from '../store/repos/index.js';
import type { ChannelContexts } from './channel-context.js';

export class Provisioner {
  constructor(
    private readonly repos: Repos,
    private readonly contexts: ChannelContexts,
    private readonly log: Logger,
  ) {}

  /** The adapter and context, when the provider provisions and the channel's account has every required secret. */
  private async context(channel: ChannelRow): Promise<{ adapter: ProviderAdapter; ctx: ProvisionContext } | undefined> {
    const adapter = getProvider(channel.provider);
    if (!adapter?.provision || !(channel.connection_id ?? channel.credential_id)) return undefined;
    const ctx = await this.contexts.provision(channel);
    return adapter.secrets.required.every((k) => ctx.secrets[k]) ? { adapter, ctx } : undefined;
  }

  /** After create or enable. Returns the channel as it now is. */
  async provision(channel: ChannelRow): Promise<ChannelRow> {
    const found = await this.context(channel);
    if (!found) return channel;
    try {
      return await this.succeeded(channel, await found.adapter.provision!.register(found.ctx));
    } catch (err) {
      return this.markError(channel, describe(found.adapter, err));
    }
  }

  /**
   * Renews every enabled channel's registration its adapter says is due. A refused renewal puts
   * the channel in error, where the person running it sees it. Several nodes may run this; a
   * renewal twice over is harmless. Returns how many were renewed.
   */
  async renewDue(now = Date.now()): Promise<number> {
    let renewed = 0;
    for (const adapter of providers()) {
      const renew = adapter.provision?.renew;
      if (!renew) continue;
      for (const channel of await this.repos.channels.listEnabledByProvider(adapter.name)) {
        if (!renew.due(JSON.parse(channel.config) as Record<string, unknown>, now)) continue;
        const found = await this.context(channel);
        if (!found) continue;
        try {
          const r = await renew.run(found.ctx);
          // Re-read: a webhook may have moved the config (a cursor) while the call was out.
          const fresh = await this.repos.channels.get(channel.id);
          if (!fresh) continue;
          const current = JSON.parse(fresh.config) as Record<string, unknown>;
          const keep: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(r.ifAbsent ?? {})) if (current[k] === undefined || current[k] === null) keep[k] = v;
          await this.succeeded(fresh, { ...r.patch, ...keep });
          renewed++;
        } catch (err) {
          await this.markError(channel, describe(adapter, err));
        }
      }
    }
    return renewed;
  }

  /** Before delete or after disable: best effort, never blocks the operation. */
  async deprovision(channel: ChannelRow): Promise<void> {
    const found = await this.context(channel);
    if (!found?.adapter.provision?.deregister) return;
    try {
      await found.adapter.provision.deregister(found.ctx);
    } catch (err) {
      this.log.warn({ channel: channel.id, err: describe(found.adapter, err) }, 'provider clean-up failed');
    }
  }

  /** Records a successful provider call: clears what an earlier failure left, merges `configPatch`. */
  private async succeeded(channel: ChannelRow, configPatch: Record<string, unknown> | undefined): Promise<ChannelRow> {
    const patch: Partial<ChannelRow> = { updated_at: new Date().toISOString() };
    if (channel.status === 'error') patch.status = 'pending';
    if (channel.error_message) patch.error_message = null;
    if (configPatch) patch.config = JSON.stringify({ ...(JSON.parse(channel.config) as object), ...configPatch });
    await this.repos.channels.update(channel.id, patch);
    return { ...channel, ...patch };
  }

  private async markError(channel: ChannelRow, message: string): Promise<ChannelRow> {
    const patch = { status: 'error', error_message: message, updated_at: new Date().toISOString() };
    await this.repos.channels.update(channel.id, patch);
    return { ...channel, ...patch };
  }
}

function describe(adapter: ProviderAdapter, err: unknown): string {
  if (err instanceof ProvisionRefused) return err.message;
  if (err instanceof ProviderError) {
    if (err.kind === 'auth') return `${adapter.displayName} refused the credentials (${err.code}): ${err.message}`;
    return `${adapter.displayName} setup failed (${err.code}): ${err.message}`;
  }
  return `${adapter.displayName} setup failed: ${(err as Error).message}`;
}
