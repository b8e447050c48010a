/**
 * What GET /v1/providers tells any API key about each registered provider: the facts a
 * dashboard or client needs to offer it (channel types, secret names, capabilities), read from
 * the adapters themselves. Unlimited lengths/attachment counts are `null`.
 */
import type { ChannelType } from '../adapters/channel-types.js';
import type { ProviderAdapter, TextFormat } from '../adapters/contract.js';
import { providers } from '../adapters/registry.js';

export interface ProviderView {
  name: string;
  display_name: string;
  channel_types: ChannelType[];
  secret_names: { required: string[]; optional: string[] };
  verify_secret_name: string | null;
  routing_config_keys: string[];
  capabilities: {
    format: TextFormat;
    max_text_length: number | null;
    max_attachments: number | null;
    drafts: boolean;
    typing: boolean;
    edit: boolean;
    customer_care_window_hours: number | null;
  };
}

const finite = (n: number): number | null => (Number.isFinite(n) ? n : null);

export function providerView(a: ProviderAdapter): ProviderView {
  const c = a.capabilities;
  return {
    name: a.name,
    display_name: a.displayName,
    channel_types: [...a.channelTypes],
    secret_names: { required: [...a.secrets.required], optional: [...a.secrets.optional] },
    verify_secret_name: a.secrets.verify ?? null,
    routing_config_keys: [...(a.identity?.identityConfigKeys ?? [])],
    capabilities: {
      format: c.format,
      max_text_length: finite(c.maxTextLength),
      max_attachments: finite(c.maxAttachments),
      drafts: c.drafts,
      typing: c.typing,
      edit: c.edit,
      customer_care_window_hours: c.customerCareWindowHours,
    },
  };
}

export function listProviders(): { providers: ProviderView[]; count: number } {
  const list = providers().map(providerView);
  return { providers: list, count: list.length };
}
