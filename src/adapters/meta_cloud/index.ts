import { metaCloudIdentity } from './identity.js';
import { metaCloudMedia } from './media.js';
import { MB, type InboundPart, type ProviderAdapter } from '../contract.js';
import { parseMeta } from './parse.js';
import { metaCloudProvision } from './provision.js';
import { metaCloudOutbound } from './send.js';
import { metaHandshake, verifyMeta } from './verify.js';

/** The inbound part on its own (adapter unit tests call it directly). */
export const metaCloudAdapter: InboundPart = { verify: verifyMeta, parse: parseMeta, handshake: metaHandshake };

/**
 * WhatsApp Cloud API. channelIdentity = metadata.phone_number_id (route on it),
 * conversationKey = the person's wa_id, providerEventId = wamid (statuses: wamid + ':' + status).
 */
export const metaCloud: ProviderAdapter = {
  name: 'meta_cloud',
  displayName: 'WhatsApp Cloud API',
  channelTypes: ['whatsapp'],
  secrets: { required: ['access_token', 'app_secret'], optional: [], verify: 'app_secret' },
  api: { defaultBaseUrl: 'https://graph.facebook.com/v21.0', env: 'SWITCHBOARD_META_GRAPH_URL' },
  // One media per message; "typing" is the read receipt with a typing indicator.
  capabilities: { format: 'whatsapp', maxTextLength: 4096, maxAttachments: 1, drafts: false, typing: true, edit: false, customerCareWindowHours: 24 },
  // Cloud API media: images 5 MB (JPEG/PNG), audio and video 16 MB, stickers 500 KB, documents 100 MB.
  attachmentLimits: {
    maxCount: 10,
    perFile: (kind, mime) => {
      if (kind === 'image' && /^image\/(jpeg|png)$/.test(mime)) return 5 * MB;
      if (kind === 'sticker') return 500 * 1024;
      if (kind === 'audio' || kind === 'voice' || kind === 'video') return 16 * MB;
      return 100 * MB;
    },
  },
  identity: metaCloudIdentity,
  inbound: metaCloudAdapter,
  // Conversations are keyed by wa_id: the number's digits, no '+'.
  conversationKeyFor: (recipient) => recipient.replace(/^\+/, ''),
  outbound: metaCloudOutbound,
  media: metaCloudMedia,
  provision: metaCloudProvision,
};
