/**
 * Provider name -> inbound adapter. Adding a provider is one folder plus one line here.
 *
 * Example: `const a = getAdapter(channel.provider); if (!a) throw new UnknownProvider();`
 */
import type { InboundAdapter } from './types.js';
import { gmailAdapter } from './gmail/index.js';
import { metaCloudAdapter } from './meta_cloud/index.js';
import { resendAdapter } from './resend/index.js';
import { retellAdapter } from './retell/index.js';
import { telegramAdapter } from './telegram/index.js';
import { twilioAdapter } from './twilio/index.js';
import { webAdapter } from './web/index.js';

const ADAPTERS: ReadonlyMap<string, InboundAdapter> = new Map(
  [telegramAdapter, metaCloudAdapter, twilioAdapter, resendAdapter, retellAdapter, gmailAdapter, webAdapter].map((a) => [a.provider, a]),
);

export function getAdapter(provider: string): InboundAdapter | undefined {
  return ADAPTERS.get(provider);
}

export function knownProviders(): string[] {
  return [...ADAPTERS.keys()];
}
