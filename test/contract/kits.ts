/**
 * One entry per registered provider (src/adapters/registry.ts): its kits for the contract suite.
 * A provider that leaves out a half must say why, and the suite checks the adapter agrees, so a
 * new provider cannot skip the suite: test/contract/coverage.test.ts fails until it has an entry.
 */
import type { Kit, KitContext, OutboundKit } from './kit.js';
import { gmailKit, gmailOutboundKit } from '../providers/gmail/kit.js';
import { metaKit, metaOutboundKit } from '../providers/meta_cloud/kit.js';
import { resendKit, resendOutboundKit } from '../providers/resend/kit.js';
import { retellKit } from '../providers/retell/kit.js';
import { telegramKit, telegramOutboundKit } from '../providers/telegram/kit.js';
import { twilioKit, twilioOutboundKit } from '../providers/twilio/kit.js';
import { vonageKit, vonageOutboundKit } from '../providers/vonage/kit.js';

/**
 * Why a provider has no kit for a half, each checked against the adapter:
 * - `no_public_webhook`: its events arrive through a route of their own (`publicWebhook: false`);
 * - `widget`: Switchboard itself is the channel (`widget: true`), answers go to the web chat hub;
 * - `voice`: every channel type is `voice`; answers go over the call's own connection (src/voice).
 */
export type NoKit = 'no_public_webhook' | 'widget' | 'voice';

export interface ProviderKits {
  inbound: ((c: KitContext) => Promise<Kit>) | { none: NoKit };
  outbound: ((c: KitContext) => Promise<OutboundKit>) | { none: NoKit };
}

export const KITS: Record<string, ProviderKits> = {
  telegram: { inbound: telegramKit, outbound: telegramOutboundKit },
  meta_cloud: { inbound: (c) => metaKit(c), outbound: metaOutboundKit },
  twilio: { inbound: twilioKit, outbound: twilioOutboundKit },
  resend: { inbound: (c) => resendKit(c), outbound: resendOutboundKit },
  retell: { inbound: (c) => retellKit(c), outbound: { none: 'voice' } },
  gmail: { inbound: (c) => gmailKit(c), outbound: gmailOutboundKit },
  vonage: { inbound: (c) => vonageKit(c), outbound: vonageOutboundKit },
  web: { inbound: { none: 'no_public_webhook' }, outbound: { none: 'widget' } },
};

/** The kit entry of a provider; throws (naming the file to edit) when there is none. */
export function kitsOf(provider: string): ProviderKits {
  const k = KITS[provider];
  if (!k) throw new Error(`provider '${provider}' has no test kit: add test/providers/${provider}/kit.ts and its line in test/contract/kits.ts`);
  return k;
}
