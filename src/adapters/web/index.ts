import { webIdentity } from './identity.js';
import type { InboundAdapter } from '../types.js';
import { parseWeb } from './parse.js';
import { verifyWeb } from './verify.js';

/**
 * The embeddable web chat widget. conversationKey = visitor_id, providerEventId =
 * client_message_id (so a widget retry is a no-op); no channelIdentity (the URL names the channel).
 */
export const webAdapter: InboundAdapter = {
  provider: 'web',
  identity: webIdentity,
  channelTypes: ['web_chat'],
  secretNames: [],
  verify: verifyWeb,
  parse: parseWeb,
};
