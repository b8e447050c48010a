import { webIdentity } from './identity.js';
import type { InboundPart, ProviderAdapter } from '../contract.js';
import { parseWeb } from './parse.js';
import { verifyWeb } from './verify.js';

/** The inbound part on its own (adapter unit tests call it directly). */
export const webAdapter: InboundPart = { verify: verifyWeb, parse: parseWeb };

/** The provider name of the web chat widget (the demo page and web chat routes look it up). */
export const WEB_PROVIDER = 'web';

/**
 * The embeddable web chat widget. conversationKey = visitor_id, providerEventId =
 * client_message_id (so a widget retry is a no-op); no channelIdentity (the URL names the channel).
 * Switchboard is the channel: answers are pushed to the widget by the web chat hub.
 */
export const web: ProviderAdapter = {
  name: WEB_PROVIDER,
  displayName: 'Web chat',
  channelTypes: ['web_chat'],
  secrets: { required: [], optional: [] },
  capabilities: { format: 'markdown', maxTextLength: Infinity, maxAttachments: 10, drafts: false, typing: false, edit: false, customerCareWindowHours: null },
  attachmentLimits: { maxCount: 10, perFile: () => Number.POSITIVE_INFINITY },
  identity: webIdentity,
  generatesWebhookSecret: true,
  widget: true,
  // Visitors write through /v1/webchat/{id}/messages only: one gate for origin, flood and length.
  publicWebhook: false,
  inbound: webAdapter,
};
