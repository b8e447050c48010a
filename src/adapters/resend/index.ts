import { resendIdentity } from './identity.js';
import { MB, type InboundPart, type ProviderAdapter } from '../contract.js';
import { parseResend } from './parse.js';
import { resendMedia } from './media.js';
import { resendOutbound } from './send.js';
import { verifySvix } from './verify.js';

/** The inbound part on its own (adapter unit tests call it directly). */
export const resendAdapter: InboundPart = { verify: verifySvix, parse: parseResend };

/**
 * Resend email (Svix-signed webhooks). The signing secret (`whsec_...`) is per webhook endpoint,
 * not the API key: a connection/channel carries it as the `webhook_secret` secret.
 * conversationKey = lower-cased thread root Message-ID, channelIdentity = the recipient address,
 * providerEventId = svix-id.
 */
export const resend: ProviderAdapter = {
  name: 'resend',
  displayName: 'Resend',
  channelTypes: ['email'],
  secrets: { required: ['api_key'], optional: ['webhook_secret'], verify: 'webhook_secret' },
  api: { defaultBaseUrl: 'https://api.resend.com', env: 'SWITCHBOARD_RESEND_API_URL' },
  capabilities: { format: 'email', maxTextLength: Infinity, maxAttachments: Infinity, drafts: false, typing: false, edit: false, customerCareWindowHours: null },
  // 40 MB per email.
  attachmentLimits: { maxCount: 20, perFile: () => 40 * MB, total: 40 * MB },
  identity: resendIdentity,
  inbound: resendAdapter,
  outbound: resendOutbound,
  media: resendMedia,
};
