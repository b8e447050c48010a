/**
 * The one list of providers. Adding a provider is one folder plus one line here (docs/providers.md).
 *
 * Example: `const a = getProvider(channel.provider); if (!a?.outbound) throw new Unsupported();`
 */
import type { ProviderAdapter } from './contract.js';
import { gmail } from './gmail/index.js';
import { metaCloud } from './meta_cloud/index.js';
import { resend } from './resend/index.js';
import { retell } from './retell/index.js';
import { telegram } from './telegram/index.js';
import { twilio } from './twilio/index.js';
import { vonage } from './vonage/index.js';
import { web } from './web/index.js';

const PROVIDERS: readonly ProviderAdapter[] = [
  telegram,
  metaCloud,
  twilio,
  resend,
  retell,
  gmail,
  web,
  vonage,
];

const BY_NAME: ReadonlyMap<string, ProviderAdapter> = new Map(PROVIDERS.map((a) => [a.name, a]));

/** The adapter of a provider name; undefined for a name Switchboard does not know. */
export function getProvider(name: string): ProviderAdapter | undefined {
  return BY_NAME.get(name);
}

/** Every registered provider, in registry order. */
export function providers(): readonly ProviderAdapter[] {
  return PROVIDERS;
}

export function knownProviders(): string[] {
  return PROVIDERS.map((a) => a.name);
}
