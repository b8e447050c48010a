/** Agent instances: the tenants' unit of ownership, each with its agent URL and signing secret. */
import { randomUUID, randomBytes } from 'node:crypto';
import type { SecretBox } from '../crypto/secret-box.js';
import { checkUrl } from '../net/ssrf.js';
import { valueError } from '../errors.js';
import type { Repos } from '../store/repos/index.js';
import type { InstanceRow } from '../store/repos/instances.js';
import { agentApiKeyAad, checkBridgeUrl, isBridgeUrl, mergeAgentConfig, parseAgentConfig, requireConfigFor, requireKeyForNewHost, type AgentConfig, type AgentConfigInput } from './agent-config.js';
import { nowIso } from './clock.js';
import { mergeTranscription, parseTranscription, transcriptionKeyAad, type TranscriptionConfig, type TranscriptionInput } from '../media/transcription.js';
import { agentLimitsOf } from './delivery.js';
import { handoffSettings, type HandoffSettings } from './conversations.js';
import { canSeeInstance, instanceNotFound, requireOperator, visibleInstanceIds, type Principal } from './principal.js';

export interface InstanceView {
  id: string;
  name: string;
  agent_url: string | null;
  /** A built-in bridge's settings (`openai+` agent URLs); the API key is never returned. */
  agent_config: AgentConfig | null;
  /** Voice-note transcription settings (media/transcription.ts); the API key is never returned. */
  transcription: TranscriptionConfig | null;
  /** The agent time limits in effect (docs/delivery.md). */
  agent_first_byte_timeout_ms: number;
  agent_idle_timeout_ms: number;
  handoff: HandoffSettings;
  created_at: string;
  updated_at: string;
}

type ViewedRow = Pick<InstanceRow, 'id' | 'name' | 'agent_url' | 'created_at' | 'updated_at'> & { agent_config?: string | null; transcription?: string | null; handoff?: string } & Partial<Pick<InstanceRow, 'agent_first_byte_timeout_ms' | 'agent_idle_timeout_ms'>>;

export function toInstanceView(r: ViewedRow): InstanceView {
  const limits = agentLimitsOf({ agent_first_byte_timeout_ms: r.agent_first_byte_timeout_ms ?? null, agent_idle_timeout_ms: r.agent_idle_timeout_ms ?? null });
  return {
    id: r.id,
    name: r.name,
    agent_url: r.agent_url,
    agent_config: parseAgentConfig(r.agent_config ?? null),
    transcription: parseTranscription(r.transcription),
    agent_first_byte_timeout_ms: limits.firstByteMs,
    agent_idle_timeout_ms: limits.idleMs,
    handoff: handoffSettings(r),
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

type AgentTimeouts = { agent_first_byte_timeout_ms?: number | null; agent_idle_timeout_ms?: number | null };

/** A Standard Webhooks signing secret: `whsec_` + base64 of 24 random bytes. */
export function newSigningSecret(): string {
  return 'whsec_' + randomBytes(24).toString('base64');
}

export const signingSecretAad = (instanceId: string) => `instance:${instanceId}:signing_secret`;

export class InstancesService {
  constructor(
    private readonly repos: Repos,
    private readonly box: SecretBox,
    private readonly allowPrivateUrls = false,
  ) {}

  /**
   * Refuses an agent_url that names a private address outright (422 now, rather than a dead
   * delivery later). Hostnames are checked again when each delivery connects (DNS can change).
   */
  private checkAgentUrl(url: string | null | undefined): void {
    if (!url || url.startsWith('builtin:')) return;
    if (isBridgeUrl(url)) {
      const refused = checkBridgeUrl(url, this.allowPrivateUrls);
      if (refused) throw valueError(['body', 'agent_url'], refused, url);
      url = url.slice('openai+'.length);
    }
    try {
      checkUrl(url, this.allowPrivateUrls);
    } catch (err) {
      throw valueError(['body', 'agent_url'], `${(err as Error).message}; set SWITCHBOARD_ALLOW_PRIVATE_URLS=true to deliver to private networks`, url);
    }
  }

  /** Creates an instance; the signing secret is returned here and on rotation only. */
  async create(p: Principal, input: { name: string; agent_url?: string | null; agent_config?: AgentConfigInput | null; transcription?: TranscriptionInput | null; handoff?: Partial<HandoffSettings> } & AgentTimeouts): Promise<InstanceView & { signing_secret: string }> {
    requireOperator(p, 'create instances');
    this.checkAgentUrl(input.agent_url);
    const id = randomUUID();
    const now = nowIso();
    const secret = newSigningSecret();
    const agent = input.agent_config ? mergeAgentConfig(null, false, input.agent_config) : undefined;
    requireConfigFor(input.agent_url, agent?.config ?? null);
    const tr = input.transcription ? mergeTranscription(null, false, input.transcription, this.allowPrivateUrls) : undefined;
    const row = {
      id, name: input.name, agent_url: input.agent_url ?? null, signing_secret_enc: this.box.encrypt(secret, signingSecretAad(id)),
      agent_config: agent ? JSON.stringify(agent.config) : null,
      agent_api_key_enc: agent?.apiKey !== undefined ? this.box.encrypt(agent.apiKey, agentApiKeyAad(id)) : null,
      transcription: tr ? JSON.stringify(tr.config) : null,
      transcription_api_key_enc: tr?.apiKey !== undefined ? this.box.encrypt(tr.apiKey, transcriptionKeyAad(id)) : null,
      agent_first_byte_timeout_ms: input.agent_first_byte_timeout_ms ?? null,
      agent_idle_timeout_ms: input.agent_idle_timeout_ms ?? null,
      handoff: JSON.stringify(input.handoff ?? {}),
      created_at: now, updated_at: now,
    };
    await this.repos.instances.insert(row);
    return { ...toInstanceView(row), signing_secret: secret };
  }

  /** The instance if it exists and `p` may see it; otherwise the same 404 either way. */
  async require(p: Principal, id: string): Promise<InstanceRow> {
    if (!canSeeInstance(p, id)) throw instanceNotFound();
    const row = await this.repos.instances.get(id);
    if (!row) throw instanceNotFound();
    return row;
  }

  async list(p: Principal): Promise<InstanceView[]> {
    return (await this.repos.instances.list(visibleInstanceIds(p))).map(toInstanceView);
  }

  async update(p: Principal, id: string, patch: { name?: string; agent_url?: string | null; agent_config?: AgentConfigInput | null; transcription?: TranscriptionInput | null; handoff?: Partial<HandoffSettings> } & AgentTimeouts): Promise<InstanceView> {
    const row = await this.require(p, id);
    this.checkAgentUrl(patch.agent_url);
    const next: Partial<InstanceRow> = { updated_at: nowIso() };
    if (patch.name !== undefined) next.name = patch.name;
    if (patch.agent_url !== undefined) next.agent_url = patch.agent_url;
    if (patch.agent_config === null) {
      next.agent_config = null;
      next.agent_api_key_enc = null;
    } else if (patch.agent_config !== undefined) {
      const merged = mergeAgentConfig(parseAgentConfig(row.agent_config), row.agent_api_key_enc !== null, patch.agent_config);
      next.agent_config = JSON.stringify(merged.config);
      if (merged.apiKey !== undefined) next.agent_api_key_enc = this.box.encrypt(merged.apiKey, agentApiKeyAad(id));
    }
    if (patch.transcription === null) {
      next.transcription = null;
      next.transcription_api_key_enc = null;
    } else if (patch.transcription !== undefined) {
      const merged = mergeTranscription(parseTranscription(row.transcription), !!row.transcription_api_key_enc, patch.transcription, this.allowPrivateUrls);
      next.transcription = JSON.stringify(merged.config);
      if (merged.apiKey !== undefined) next.transcription_api_key_enc = this.box.encrypt(merged.apiKey, transcriptionKeyAad(id));
    }
    // A key given in this PATCH, or none kept (agent_config: null), leaves nothing to protect.
    requireKeyForNewHost(row.agent_url, patch.agent_url, row.agent_api_key_enc !== null && next.agent_api_key_enc !== null, next.agent_api_key_enc !== undefined);
    requireConfigFor(next.agent_url !== undefined ? next.agent_url : row.agent_url, parseAgentConfig(next.agent_config !== undefined ? next.agent_config : row.agent_config));
    // null puts a limit back to its default.
    if (patch.agent_first_byte_timeout_ms !== undefined) next.agent_first_byte_timeout_ms = patch.agent_first_byte_timeout_ms;
    if (patch.agent_idle_timeout_ms !== undefined) next.agent_idle_timeout_ms = patch.agent_idle_timeout_ms;
    // Settings merge: a PATCH names only what it changes.
    if (patch.handoff !== undefined) next.handoff = JSON.stringify({ ...(JSON.parse(row.handoff) as object), ...patch.handoff });
    await this.repos.instances.update(id, next);
    return toInstanceView({ ...row, ...next });
  }

  async rotateSigningSecret(p: Principal, id: string): Promise<{ signing_secret: string }> {
    await this.require(p, id);
    const secret = newSigningSecret();
    await this.repos.instances.update(id, { signing_secret_enc: this.box.encrypt(secret, signingSecretAad(id)), updated_at: nowIso() });
    return { signing_secret: secret };
  }

  async delete(p: Principal, id: string): Promise<void> {
    await this.require(p, id);
    await this.repos.instances.delete(id);
  }
}
