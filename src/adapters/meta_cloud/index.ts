import { metaCloudIdentity } from './identity.js';
import type { InboundAdapter } from '../types.js';
import { parseMeta } from './parse.js';
import { metaHandshake, verifyMeta } from './verify.js';

/**
 * WhatsApp Cloud API webhooks. channelIdentity = metadata.phone_number_id (route on it),
 * conversationKey = the person's wa_id, providerEventId = wamid (statuses: wamid + ':' + status).
 */
export const metaCloudAdapter: InboundAdapter = {
  provider: 'meta_cloud',
  identity: metaCloudIdentity,
  channelTypes: ['whatsapp'],
  secretNames: ['access_token', 'app_secret'],
  verifySecretName: 'app_secret',
  verify: verifyMeta,
  parse: parseMeta,
  handshake: metaHandshake,
};
