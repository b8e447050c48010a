/**
 * Built-in bridges: an instance whose `agent_url` is `openai+https://host/v1` is answered by a
 * model behind an OpenAI-compatible Chat Completions API, configured by the instance's
 * `agent_config` ({model, system_prompt, temperature?, max_history_messages?, api_key}). The API
 * key is write-only: stored encrypted, never returned.
 */
import type { SecretBox } from '../crypto/secret-box.js';
import { ValidationFailed, valueError, type ValidationIssue } from '../errors.js';
import { isPrivateAddress } from '../net/ssrf.js';
import { isIP } from 'node:net';

export const OPENAI_PREFIX = 'openai+';

export interface AgentConfig {
  model: string;
  system_prompt: string;
  temperature?: number;
  max_history_messages?: number;
}

/** What a create or PATCH may carry (`null` members clear optional settings on PATCH). */
export interface AgentConfigInput {
  model?: string;
  system_prompt?: string;
  temperature?: number | null;
  max_history_messages?: number | null;
  api_key?: string;
}

export const DEFAULT_MAX_HISTORY = 30;

export const agentApiKeyAad = (instanceId: string) => `instance:${instanceId}:agent_api_key`;

export function isBridgeUrl(url: string | null | undefined): url is string {
  return !!url && url.startsWith(OPENAI_PREFIX);
}

/** The Chat Completions base URL of an `openai+` agent_url (`openai+https://h/v1` -> `https://h/v1`). */
export function bridgeBaseUrl(url: string): string {
  return url.slice(OPENAI_PREFIX.length);
}

/**
 * Plain http is allowed only to a loopback or private host and only when private URLs are allowed
 * (a local model server): the API key must not cross the internet in clear text.
 */
export function checkBridgeUrl(url: string, allowPrivate: boolean): string | undefined {
  const u = new URL(bridgeBaseUrl(url));
  if (u.protocol === 'https:') return undefined;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const local = host === 'localhost' || host.endsWith('.localhost') || (isIP(host) !== 0 && isPrivateAddress(host));
  if (!allowPrivate || !local) return 'openai+http:// is only for a model server on a loopback or private address, with SWITCHBOARD_ALLOW_PRIVATE_URLS=true; use openai+https://';
  return undefined;
}

export function parseAgentConfig(raw: string | null): AgentConfig | null {
  return raw ? (JSON.parse(raw) as AgentConfig) : null;
}

/**
 * The settings after a create or PATCH: given members replace stored ones, `null` clears an
 * optional one, an absent `api_key` keeps the stored key. Complete or 422 (nothing is written).
 */
export function mergeAgentConfig(
  current: AgentConfig | null,
  hasKey: boolean,
  input: AgentConfigInput,
): { config: AgentConfig; apiKey?: string } {
  const next: Record<string, unknown> = { ...(current ?? {}) };
  for (const k of ['model', 'system_prompt', 'temperature', 'max_history_messages'] as const) {
    if (input[k] === null) delete next[k];
    else if (input[k] !== undefined) next[k] = input[k];
  }
  const issues: ValidationIssue[] = [];
  for (const k of ['model', 'system_prompt'] as const) {
    if (typeof next[k] !== 'string') issues.push({ type: 'missing', loc: ['body', 'agent_config', k], msg: 'Field required', input });
  }
  if (!hasKey && input.api_key === undefined) issues.push({ type: 'missing', loc: ['body', 'agent_config', 'api_key'], msg: 'Field required', input });
  if (issues.length) throw new ValidationFailed(issues);
  return { config: next as unknown as AgentConfig, ...(input.api_key !== undefined ? { apiKey: input.api_key } : {}) };
}

/** An `openai+` agent_url needs settings: refused up front rather than failing every delivery. */
export function requireConfigFor(url: string | null | undefined, config: AgentConfig | null): void {
  if (isBridgeUrl(url) && !config) throw valueError(['body', 'agent_config'], 'an openai+ agent_url needs agent_config {model, system_prompt, api_key}', null);
}

/**
 * The stored model key goes only to the host it was given for: a PATCH that points an instance's
 * agent_url at another host (or turns it into a plain webhook URL and back) must send
 * agent_config.api_key again, or anyone who may edit the instance could collect the key with a
 * server of their own.
 */
export function requireKeyForNewHost(previousUrl: string | null, nextUrl: string | null | undefined, keyStored: boolean, keyGiven: boolean): void {
  if (!keyStored || keyGiven || nextUrl === undefined || !isBridgeUrl(nextUrl)) return;
  const host = (u: string | null) => {
    if (!isBridgeUrl(u)) return null;
    try {
      return new URL(bridgeBaseUrl(u)).host.toLowerCase();
    } catch {
      return null;
    }
  };
  if (host(previousUrl) !== host(nextUrl)) {
    throw valueError(['body', 'agent_config', 'api_key'], 'agent_url names another host: send agent_config.api_key again (the stored key is only ever sent to the host it was given for)', null);
  }
}

export function decryptAgentApiKey(box: SecretBox, instanceId: string, enc: string | null): string | undefined {
  return enc ? box.decrypt(enc, agentApiKeyAad(instanceId)) : undefined;
}
