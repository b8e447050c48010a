import { MB, type InboundPart, type ProviderAdapter } from '../contract.js';
import { VONAGE_API_BASE_URL } from './api.js';
import { vonageIdentity } from './identity.js';
import { parseVonage } from './parse.js';
import { vonageMedia } from './media.js';
import { vonageOutbound } from './send.js';
import { verifyVonage } from './verify.js';

/** The inbound part on its own (adapter unit tests call it directly). */
export const vonageInbound: InboundPart = { verify: verifyVonage, parse: parseVonage };

/**
 * Vonage Messages API: SMS and WhatsApp. Webhooks (inbound messages and statuses, both to the
 * channel's URL) are JWT-signed with the account's signature secret; sends use Basic auth with
 * api_key/api_secret. conversationKey = the person's number, providerEventId = message_uuid.
 */
export const vonage: ProviderAdapter = {
  name: 'vonage',
  displayName: 'Vonage',
  channelTypes: ['sms', 'whatsapp'],
  // application_id + private_key: the Vonage application's, for media under "Secure Inbound Media".
  secrets: { required: ['api_key', 'api_secret', 'signature_secret'], optional: ['application_id', 'private_key'], verify: 'signature_secret' },
  api: { defaultBaseUrl: VONAGE_API_BASE_URL, env: 'SWITCHBOARD_VONAGE_API_URL' },
  // SMS text up to 1000 characters, no media; WhatsApp text up to 4096, one media per message.
  capabilities: { format: 'plain', maxTextLength: 1000, maxAttachments: 0, drafts: false, typing: false, edit: false, customerCareWindowHours: null },
  channelCapabilities: { whatsapp: { format: 'whatsapp', maxTextLength: 4096, maxAttachments: 1, customerCareWindowHours: 24 } },
  channelAttachmentLimits: {
    // Sent as image/audio/video only in the types WhatsApp takes for them, else as a file (send.ts);
    // Vonage fetches the file from a signed link.
    whatsapp: {
      maxCount: 10,
      perFile: (kind, mime) => {
        if (kind === 'image' && /^image\/(jpeg|png)$/.test(mime)) return 5 * MB;
        if ((kind === 'audio' || kind === 'voice') && /^audio\/(aac|amr|mpeg|mp4|ogg)$/.test(mime)) return 16 * MB;
        if (kind === 'video' && /^video\/(mp4|3gpp)$/.test(mime)) return 16 * MB;
        return 100 * MB;
      },
    },
    // Vonage MMS (US/Canada only) is not supported: SMS channels carry no files.
    sms: { maxCount: 0, perFile: () => 0 },
  },
  identity: vonageIdentity,
  // Vonage writes the person's number as digits without '+': conversations are keyed so.
  conversationKeyFor: (recipient) => recipient.replace(/^\+/, ''),
  inbound: vonageInbound,
  outbound: vonageOutbound,
  media: vonageMedia,
};
