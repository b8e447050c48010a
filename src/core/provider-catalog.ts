/**
 * What Switchboard knows about each provider before any adapter runs: the channel types it can
 * serve and the secret names its accounts carry. A provider not listed is accepted as free text
 * (the seed says "etc."), without these checks.
 */
import type { ChannelType } from './channel-types.js';

export interface ProviderInfo {
  channelTypes: readonly ChannelType[];
  /** Secrets every connection/credential of this provider must carry. */
  requiredSecrets: readonly string[];
  /** Further secrets it may carry (e.g. a separate webhook signing secret). */
  optionalSecrets: readonly string[];
}

export const PROVIDERS: Record<string, ProviderInfo> = {
  telegram: { channelTypes: ['telegram'], requiredSecrets: ['bot_token'], optionalSecrets: [] },
  meta_cloud: { channelTypes: ['whatsapp'], requiredSecrets: ['access_token', 'app_secret'], optionalSecrets: [] },
  twilio: { channelTypes: ['sms', 'whatsapp', 'voice'], requiredSecrets: ['account_sid', 'auth_token'], optionalSecrets: [] },
  resend: { channelTypes: ['email'], requiredSecrets: ['api_key'], optionalSecrets: ['webhook_secret'] },
  gmail: { channelTypes: ['email'], requiredSecrets: ['client_id', 'client_secret', 'refresh_token'], optionalSecrets: [] },
  retell: { channelTypes: ['voice'], requiredSecrets: ['api_key'], optionalSecrets: [] },
  web: { channelTypes: ['web_chat'], requiredSecrets: [], optionalSecrets: [] },
};

export function providerInfo(provider: string): ProviderInfo | undefined {
  return Object.prototype.hasOwnProperty.call(PROVIDERS, provider) ? PROVIDERS[provider] : undefined;
}
