/**
 * A channel's canonical identities, from its provider's rules (adapters/<p>/identity.ts, read off
 * the adapter object): what uniqueness, account-level routing and provisioning checks compare.
 */
import { getProvider } from '../adapters/registry.js';
import { channelIdentities, defaultIdentityRules, type IdentityRules } from '../adapters/shared/identity.js';
import type { ValidationIssue } from '../errors.js';

export function identityRules(provider: string): IdentityRules {
  return getProvider(provider)?.identity ?? defaultIdentityRules;
}

/** The canonical form of an identity named by a provider's event or API answer. */
export function canonicalIdentity(provider: string, value: string, key = 'external_identifier'): string {
  return identityRules(provider).canonical(value, key);
}

/** Identities of a channel-to-be; problems become 422 issues at the field they came from. */
export function identitiesOf(provider: string, externalIdentifier: string, config: Record<string, unknown>, issues: ValidationIssue[]): string[] {
  const r = channelIdentities(identityRules(provider), externalIdentifier, config);
  for (const p of r.problems) {
    const loc = p.key === 'external_identifier' ? ['body', 'external_identifier'] : ['body', 'config', p.key];
    const input = p.key === 'external_identifier' ? externalIdentifier : config[p.key];
    issues.push({ type: 'value_error', loc, msg: `Value error, ${p.message}`, input, ctx: { error: p.message } });
  }
  return r.identities;
}

/** The scopes a channel's identities claim on a shared platform credential (email domains). */
export function sharedScopesOf(provider: string, identities: readonly string[]): Set<string> {
  const rules = identityRules(provider);
  const out = new Set<string>();
  if (rules.sharedScope) for (const id of identities) {
    const scope = rules.sharedScope(id);
    if (scope) out.add(scope);
  }
  return out;
}

/** Every identity of a stored channel (for routing), canonical. */
export function storedIdentities(channel: { provider: string; external_identifier: string; config: string }): string[] {
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(channel.config) as Record<string, unknown>;
  } catch {
    config = {};
  }
  return channelIdentities(identityRules(channel.provider), channel.external_identifier, config).identities;
}
