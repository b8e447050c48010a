/**
 * Provider accounts: connections (a customer's own account, bound to one instance) and
 * credentials (the platform's accounts, managed by the operator, usable by any instance's channels).
 * Secrets are encrypted as one JSON blob; only their names are ever shown.
 */
import { randomUUID } from 'node:crypto';
import type { SecretBox } from '../crypto/secret-box.js';
import { NotFound, ValidationFailed, type ValidationIssue } from '../errors.js';
import type { AccountKind, AccountRow } from '../store/repos/accounts.js';
import type { Repos } from '../store/repos/index.js';
import { Conflict } from '../errors.js';
import { nowIso } from './clock.js';
import { canSeeInstance, requireOperator, type Principal } from './principal.js';
import { getProvider } from '../adapters/registry.js';

export interface AccountView {
  id: string;
  instance_id?: string;
  provider: string;
  name: string | null;
  secret_names: string[];
  settings: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  /** One webhook URL for the whole account (Meta app, Resend, Retell, Gmail push), routed by identity. */
  webhook_url?: string;
}

export interface AccountInput {
  provider: string;
  name?: string | null;
  secrets: Record<string, string>;
  settings: Record<string, unknown>;
}

export const accountSecretsAad = (id: string) => `account:${id}:secrets`;

export function toAccountView(r: AccountRow): AccountView {
  const v: AccountView = {
    id: r.id,
    provider: r.provider,
    name: r.name,
    secret_names: JSON.parse(r.secret_names) as string[],
    settings: JSON.parse(r.settings) as Record<string, unknown>,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
  if (r.kind === 'connection' && r.instance_id) v.instance_id = r.instance_id;
  return v;
}

/** Provider-specific rules on top of the generic shape: required secret names, api_base_url. */
function checkAccountInput(input: AccountInput): void {
  const issues: ValidationIssue[] = [];
  const adapter = getProvider(input.provider);
  if (adapter) {
    for (const name of adapter.secrets.required) {
      if (!(name in input.secrets)) issues.push({ type: 'missing', loc: ['body', 'secrets', name], msg: 'Field required', input: {} });
      else if (input.secrets[name] === '') issues.push({ type: 'string_too_short', loc: ['body', 'secrets', name], msg: 'String should have at least 1 character', input: '', ctx: { min_length: 1 } });
    }
  }
  const base = input.settings.api_base_url;
  if (base !== undefined) {
    let ok = typeof base === 'string';
    if (ok) {
      try {
        const u = new URL(base as string);
        ok = u.protocol === 'https:' || u.protocol === 'http:';
      } catch {
        ok = false;
      }
    }
    if (!ok) issues.push({ type: 'url_parsing', loc: ['body', 'settings', 'api_base_url'], msg: 'Input should be a valid URL, relative URL without a base', input: base, ctx: { error: 'relative URL without a base' } });
  }
  if (issues.length) throw new ValidationFailed(issues);
}

export class AccountsService {
  constructor(
    private readonly repos: Repos,
    private readonly box: SecretBox,
    private readonly config: { publicUrl: string },
  ) {}

  view(r: AccountRow): AccountView {
    return { ...toAccountView(r), webhook_url: `${this.config.publicUrl}/v1/webhooks/accounts/${r.id}` };
  }

  private async insert(kind: AccountKind, instanceId: string | null, input: AccountInput): Promise<AccountView> {
    checkAccountInput(input);
    const id = randomUUID();
    const now = nowIso();
    const row: AccountRow = {
      id,
      kind,
      instance_id: instanceId,
      provider: input.provider,
      name: input.name ?? null,
      secrets_enc: this.box.encryptJson(input.secrets, accountSecretsAad(id)),
      secret_names: JSON.stringify(Object.keys(input.secrets).sort()),
      settings: JSON.stringify(input.settings),
      created_at: now,
      updated_at: now,
    };
    await this.repos.accounts.insert(row);
    return this.view(row);
  }

  createConnection(instanceId: string, input: AccountInput): Promise<AccountView> {
    return this.insert('connection', instanceId, input);
  }

  createCredential(p: Principal, input: AccountInput): Promise<AccountView> {
    requireOperator(p, 'manage platform credentials');
    return this.insert('credential', null, input);
  }

  async listConnections(instanceId: string): Promise<AccountView[]> {
    return (await this.repos.accounts.list('connection', instanceId)).map((r) => this.view(r));
  }

  async listCredentials(p: Principal): Promise<AccountView[]> {
    requireOperator(p, 'manage platform credentials');
    return (await this.repos.accounts.list('credential')).map((r) => this.view(r));
  }

  async requireConnection(instanceId: string, id: string): Promise<AccountRow> {
    const row = await this.repos.accounts.get(id, 'connection');
    if (!row || row.instance_id !== instanceId) throw new NotFound('Connection not found');
    return row;
  }

  async requireCredential(p: Principal, id: string): Promise<AccountRow> {
    requireOperator(p, 'manage platform credentials');
    const row = await this.repos.accounts.get(id, 'credential');
    if (!row) throw new NotFound('Credential not found');
    return row;
  }

  /** A connection usable by a channel of `instanceId`, else undefined (missing and invisible look the same). */
  async usableConnection(p: Principal, instanceId: string, id: string): Promise<AccountRow | undefined> {
    const row = await this.repos.accounts.get(id, 'connection');
    if (!row || row.instance_id !== instanceId || !canSeeInstance(p, instanceId)) return undefined;
    return row;
  }

  async usableCredential(id: string): Promise<AccountRow | undefined> {
    return this.repos.accounts.get(id, 'credential');
  }

  async delete(row: AccountRow): Promise<void> {
    if (await this.repos.accounts.inUse(row.id)) throw new Conflict('This account is used by a channel; delete or move the channel first.');
    await this.repos.accounts.delete(row.id);
  }

  decryptSecrets(row: AccountRow): Record<string, string> {
    return this.box.decryptJson<Record<string, string>>(row.secrets_enc, accountSecretsAad(row.id));
  }
}
