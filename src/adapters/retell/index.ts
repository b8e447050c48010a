import { retellIdentity } from './identity.js';
import type { InboundPart, ProviderAdapter } from '../contract.js';
import { parseRetell } from './parse.js';
import { retellMedia } from './media.js';
import { retellSocketToken, retellSocketUrl } from './urls.js';
import { verifyRetell } from './verify.js';

/** The inbound part on its own (adapter unit tests call it directly). */
export const retellAdapter: InboundPart = { verify: verifyRetell, parse: parseRetell };

/**
 * Retell AI call webhooks, signed with the account's API key. conversationKey = call_id,
 * channelIdentity = agent_id (to_number is on `to`), providerEventId = call_id + ':' + event.
 * Answers go over Retell's custom-LLM WebSocket (src/voice), not an outbound API.
 */
export const retell: ProviderAdapter = {
  name: 'retell',
  displayName: 'Retell AI',
  channelTypes: ['voice'],
  secrets: { required: ['api_key'], optional: [], verify: 'api_key' },
  api: { defaultBaseUrl: 'https://api.retellai.com', env: 'SWITCHBOARD_RETELL_API_URL' },
  capabilities: { format: 'speech', maxTextLength: Infinity, maxAttachments: 0, drafts: false, typing: false, edit: false, customerCareWindowHours: null },
  identity: retellIdentity,
  inbound: retellAdapter,
  media: retellMedia,
  voiceLinks: ({ publicUrl, channelId, verifySecret }): Record<string, string> =>
    verifySecret ? { retell_llm_websocket_url: retellSocketUrl(publicUrl, channelId, retellSocketToken(verifySecret, channelId)) } : {},
};
