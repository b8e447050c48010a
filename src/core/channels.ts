/** Channels of an instance: the seed API's objects, with the rules the seed implies. */
import { randomUUID } from 'node:crypto';
import type { SecretBox } from '../crypto/secret-box.js';
import { randomToken } from '../crypto/tokens.js';
import { Conflict, ValidationFailed, type ValidationIssue } from '../errors.js';
import { DuplicateIdentity, type ChannelRow } from '../store/repos/channels.js';
import type { Repos } from '../store/repos/index.js';
import type { WriteWatch } from '../store/write-watch.js';
import type { AccountsService } from './accounts.js';
import type { ChannelDraft } from '../adapters/contract.js';
import type { ChannelType } from './channel-types.js';
import { nowIso } from './clock.js';
import { canSeeInstance, channelNotFound, type Principal } from './principal.js';
import { getProvider } from '../adapters/registry.js';
import { canonicalIdentity, identitiesOf, sharedScopesOf, storedIdentities } from './channel-identity.js';
import { checkTurnsConfig } from './turns-config.js';

/** The 13 fields of the seed's channel response, in its order, plus `webhook_url`. */
export interface ChannelView {
  channel_type: string;
  config: Record<string, unknown>;
  connection_id: string | null;
  created_at: string;
  enabled: boolean;
  error_message: string | null;
  external_identifier: string;
  id: string;
  instance_id: string;
  last_event_at: string | null;
  provider: string;
  status: string;
  updated_at: string;
  webhook_url: string;
}

export interface ChannelCreate {
  channel_type: ChannelType;
  config: Record<string, unknown>;
  connection_id?: string | null;
  credential_id?: string | null;
  enabled: boolean;
  external_identifier: string;
  provider: string;
  webhook_secret?: string | null;
}

export interface ChannelUpdate {
  config?: Record<string, unknown> | null;
  enabled?: boolean | null;
  error_message?: string | null;
  external_identifier?: string | null;
  provider?: string | null;
  status?: string | null;
  webhook_secret?: string | null;
}

export const webhookSecretAad = (channelId: string) => `channel:${channelId}:webhook_secret`;

/**
 * A channel's webhook URL and decrypted webhook secret: what the channel service and the adapter
 * contexts (core/channel-context.ts) both need, split out so neither has to hold the other
 * (the provisioner needs the contexts, and the channel service needs the provisioner).
 */
export class ChannelWebhooks {
  constructor(
    private readonly box: SecretBox,
    private readonly config: { publicUrl: string },
  ) {}

  webhookUrl(channelId: string): string {
    return `${this.config.publicUrl}/v1/webhooks/${channelId}`;
  }

  webhookSecret(row: ChannelRow): string | undefined {
    return row.webhook_secret_enc ? this.box.decrypt(row.webhook_secret_enc, webhookSecretAad(row.id)) : undefined;
  }
}

/**
 * The channel's canonical external identifier, per provider (see core/channel-identity.ts): one
 * bot, number or address can deliver to one channel only. The full set of routing identities
 * (config keys included) is unique too, in channel_identities.
 */
export function identityKey(provider: string, externalIdentifier: string): string {
  return `${provider.toLowerCase()}\n${canonicalIdentity(provider, externalIdentifier)}`;
}

/** Provider-side registration, run after the row is written (see core/provisioning.ts). */
export interface ChannelProvisioner {
  provision(channel: ChannelRow): Promise<ChannelRow>;
  deprovision(channel: ChannelRow): Promise<void>;
}

export interface ChannelsOptions {
  /** Provider-side registration on create, enable, disable and delete. */
  provisioner?: ChannelProvisioner;
  /** Single-process stores: makes `list` cacheable (see store/write-watch.ts). */
  writes?: WriteWatch;
}

export class ChannelsService {
  private readonly provisioner?: ChannelProvisioner;
  private readonly writes?: WriteWatch;
  private readonly hooks: ChannelWebhooks;
  private readonly listCache = new Map<string, { version: number; publicUrl: string; views: ChannelView[] }>();

  constructor(
    private readonly repos: Repos,
    private readonly box: SecretBox,
    private readonly accounts: AccountsService,
    private readonly config: { publicUrl: string },
    opts: ChannelsOptions = {},
  ) {
    this.provisioner = opts.provisioner;
    this.writes = opts.writes;
    this.hooks = new ChannelWebhooks(box, config);
  }

  webhookUrl(channelId: string): string {
    return this.hooks.webhookUrl(channelId);
  }

  toView(r: ChannelRow): ChannelView {
    return {
      channel_type: r.channel_type,
      config: JSON.parse(r.config) as Record<string, unknown>,
      connection_id: r.connection_id,
      created_at: r.created_at,
      enabled: r.enabled === 1,
      error_message: r.error_message,
      external_identifier: r.external_identifier,
      id: r.id,
      instance_id: r.instance_id,
      last_event_at: r.last_event_at,
      provider: r.provider,
      status: r.status,
      updated_at: r.updated_at,
      webhook_url: this.webhookUrl(r.id),
    };
  }

  async list(instanceId: string): Promise<ChannelView[]> {
    // Single-process stores cache each instance's list until any write touches channels.
    const writes = this.writes;
    if (!writes) return (await this.repos.channels.listByInstance(instanceId)).map((r) => this.toView(r));
    const version = writes.version('channels');
    const hit = this.listCache.get(instanceId);
    if (hit && hit.version === version && hit.publicUrl === this.config.publicUrl) return hit.views;
    const views = (await this.repos.channels.listByInstance(instanceId)).map((r) => this.toView(r));
    if (this.listCache.size >= 10_000) this.listCache.clear();
    this.listCache.set(instanceId, { version, publicUrl: this.config.publicUrl, views });
    return views;
  }

  async require(instanceId: string, id: string): Promise<ChannelRow> {
    const row = await this.repos.channels.get(id);
    if (!row || row.instance_id !== instanceId) throw channelNotFound();
    return row;
  }

  /**
   * Rules that tie provider, channel type and secrets together, then the adapter's own
   * (validateChannel); all issues reported at once. A provider Switchboard does not know is
   * accepted as free text (the seed says "etc."), without these checks.
   */
  private checkProviderRules(issues: ValidationIssue[], provider: string, draft: ChannelDraft): void {
    const adapter = getProvider(provider);
    if (!adapter) return;
    if (!adapter.channelTypes.includes(draft.channelType)) {
      const msg = `provider '${provider}' serves ${adapter.channelTypes.join(', ')} channels, not '${draft.channelType}'`;
      issues.push({ type: 'value_error', loc: ['body', 'provider'], msg: `Value error, ${msg}`, input: provider, ctx: { error: msg } });
    }
    for (const issue of adapter.validateChannel?.(draft) ?? []) {
      const input = issue.field === 'webhook_secret' ? '[redacted]' : issue.field === 'config' ? draft.config : draft.externalIdentifier;
      issues.push({ type: 'value_error', loc: ['body', issue.field], msg: `Value error, ${issue.message}`, input, ctx: { error: issue.message } });
    }
  }

  async create(p: Principal, instanceId: string, input: ChannelCreate): Promise<ChannelView> {
    const issues: ValidationIssue[] = [];
    const config = checkTurnsConfig(input.config, issues);
    this.checkProviderRules(issues, input.provider, { channelType: input.channel_type, externalIdentifier: input.external_identifier, config: input.config, webhookSecret: input.webhook_secret });
    const identities = identitiesOf(input.provider, input.external_identifier, input.config, issues);
    if (input.connection_id) {
      const conn = await this.accounts.usableConnection(p, instanceId, input.connection_id);
      const msg = !conn
        ? `connection ${input.connection_id} does not exist`
        : conn.provider !== input.provider
          ? `connection ${input.connection_id} is a '${conn.provider}' account, not '${input.provider}'`
          : undefined;
      if (msg) issues.push({ type: 'value_error', loc: ['body', 'connection_id'], msg: `Value error, ${msg}`, input: input.connection_id, ctx: { error: msg } });
    }
    if (input.credential_id) {
      const cred = await this.accounts.usableCredential(input.credential_id);
      const msg = !cred
        ? `credential ${input.credential_id} does not exist`
        : cred.provider !== input.provider
          ? `credential ${input.credential_id} is a '${cred.provider}' account, not '${input.provider}'`
          : undefined;
      if (msg) issues.push({ type: 'value_error', loc: ['body', 'credential_id'], msg: `Value error, ${msg}`, input: input.credential_id, ctx: { error: msg } });
    }
    if (issues.length) throw new ValidationFailed(issues);
    if (input.credential_id) await this.checkSharedScopes(p, instanceId, input.provider, input.credential_id, identities);

    const id = randomUUID();
    const now = nowIso();
    let secret = input.webhook_secret ?? null;
    // Providers whose webhook secret Switchboard chooses itself (the others are issued by the provider).
    if (secret === null && getProvider(input.provider)?.generatesWebhookSecret) secret = randomToken(32);
    const row: ChannelRow = {
      id,
      instance_id: instanceId,
      channel_type: input.channel_type,
      provider: input.provider,
      external_identifier: input.external_identifier,
      identity_key: identityKey(input.provider, input.external_identifier),
      config: JSON.stringify(config),
      connection_id: input.connection_id ?? null,
      credential_id: input.credential_id ?? null,
      webhook_secret_enc: secret === null ? null : this.box.encrypt(secret, webhookSecretAad(id)),
      enabled: input.enabled ? 1 : 0,
      status: input.enabled ? 'pending' : 'disabled',
      error_message: null,
      last_event_at: null,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.repos.channels.insert(row, identities);
    } catch (err) {
      if (err instanceof DuplicateIdentity) throw duplicate(input.provider, input.external_identifier);
      throw err;
    }
    return this.toView(row.enabled && this.provisioner ? await this.provisioner.provision(row) : row);
  }

  /**
   * On a platform credential (one provider account serving several tenants) an identity may claim
   * more than itself: an email address claims its domain. A channel of another instance on the
   * same credential already holding that scope is another tenant's, unless the caller can see
   * that instance too (the operator, or a key over both): 409, nothing stored.
   */
  private async checkSharedScopes(p: Principal | undefined, instanceId: string, provider: string, credentialId: string, identities: readonly string[], channelId?: string): Promise<void> {
    const wanted = sharedScopesOf(provider, identities);
    if (wanted.size === 0) return;
    for (const other of await this.repos.channels.listByAccount(credentialId)) {
      if (other.id === channelId || other.instance_id === instanceId || other.credential_id !== credentialId) continue;
      if (p && canSeeInstance(p, other.instance_id)) continue;
      const held = sharedScopesOf(other.provider, storedIdentities(other));
      const clash = [...wanted].find((s) => held.has(s));
      if (clash) {
        throw new Conflict(`The ${clash.replace(':', ' ')} is used by another instance's channel on this platform credential; a shared credential's domain belongs to one tenant. Use a connection of your own for it.`);
      }
    }
  }

  async update(instanceId: string, id: string, patch: ChannelUpdate, p?: Principal): Promise<ChannelView> {
    const row = await this.require(instanceId, id);
    const next: Partial<ChannelRow> = {};
    const provider = patch.provider ?? row.provider;
    const externalIdentifier = patch.external_identifier ?? row.external_identifier;
    const issues: ValidationIssue[] = [];
    const identityChange = Boolean(patch.provider || patch.external_identifier || patch.config);
    // A config given replaces the stored one whole, so only a given one is checked.
    const config = patch.config ? checkTurnsConfig(patch.config, issues) : (JSON.parse(row.config) as Record<string, unknown>);
    this.checkProviderRules(issues, provider, { channelType: row.channel_type as ChannelType, externalIdentifier, config, webhookSecret: patch.webhook_secret });
    const identities = identityChange ? identitiesOf(provider, externalIdentifier, config, issues) : undefined;
    if (patch.provider && patch.provider !== row.provider) {
      for (const [field, accId] of [['connection_id', row.connection_id], ['credential_id', row.credential_id]] as const) {
        const acc = accId ? await this.repos.accounts.get(accId) : undefined;
        if (acc && acc.provider !== provider) {
          const msg = `the channel's ${field.replace('_id', '')} is a '${acc.provider}' account, not '${provider}'`;
          issues.push({ type: 'value_error', loc: ['body', 'provider'], msg: `Value error, ${msg}`, input: provider, ctx: { error: msg } });
        }
      }
    }
    if (issues.length) throw new ValidationFailed(issues);
    if (identities && row.credential_id) await this.checkSharedScopes(p, instanceId, provider, row.credential_id, identities, id);

    if (patch.config) next.config = JSON.stringify(config);
    if (patch.provider) next.provider = patch.provider;
    if (patch.external_identifier) next.external_identifier = patch.external_identifier;
    if (patch.provider || patch.external_identifier) next.identity_key = identityKey(provider, externalIdentifier);
    if (patch.webhook_secret !== undefined) next.webhook_secret_enc = patch.webhook_secret === null ? null : this.box.encrypt(patch.webhook_secret, webhookSecretAad(id));
    if (typeof patch.enabled === 'boolean' && (patch.enabled ? 1 : 0) !== row.enabled) {
      next.enabled = patch.enabled ? 1 : 0;
      next.status = patch.enabled ? 'pending' : 'disabled';
    }
    if (patch.status) next.status = patch.status;
    if (patch.error_message !== undefined) next.error_message = patch.error_message;
    next.updated_at = nowIso();
    try {
      await this.repos.channels.update(id, next, identities ? { provider, values: identities } : undefined);
    } catch (err) {
      if (err instanceof DuplicateIdentity) throw duplicate(provider, externalIdentifier);
      throw err;
    }
    let updated: ChannelRow = { ...row, ...next };
    if (this.provisioner && next.enabled !== undefined) {
      if (next.enabled === 1) updated = await this.provisioner.provision(updated);
      else await this.provisioner.deprovision(updated);
    }
    return this.toView(updated);
  }

  async delete(instanceId: string, id: string): Promise<void> {
    const row = await this.require(instanceId, id);
    if (row.enabled === 1) await this.provisioner?.deprovision(row);
    await this.repos.channels.delete(id);
  }

  webhookSecret(row: ChannelRow): string | undefined {
    return this.hooks.webhookSecret(row);
  }
}

function duplicate(provider: string, ext: string): Conflict {
  return new Conflict(
    `A channel for provider '${provider}' with external identifier '${ext}' (or with one of its routing identities in config, such as phone_number_id, agent_id or an address) already exists.`,
  );
}
