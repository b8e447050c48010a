/**
 * Provider name -> outbound sender. Web chat has none: its "send" is the stored message itself,
 * pushed to the widget by the web chat hub. Retell answers over its own WebSocket.
 */
import { gmailSender } from './gmail/send.js';
import { metaCloudSender } from './meta_cloud/send.js';
import { resendSender } from './resend/send.js';
import { telegramSender } from './telegram/send.js';
import { twilioSender } from './twilio/send.js';
import type { OutboundSender } from './types.js';

const SENDERS: ReadonlyMap<string, OutboundSender> = new Map([telegramSender, metaCloudSender, twilioSender, resendSender, gmailSender].map((s) => [s.provider, s]));

export function getSender(provider: string): OutboundSender | undefined {
  return SENDERS.get(provider);
}
