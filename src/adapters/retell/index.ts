import { retellIdentity } from './identity.js';
import type { InboundAdapter } from '../types.js';
import { parseRetell } from './parse.js';
import { verifyRetell } from './verify.js';

/**
 * Retell AI call webhooks, signed with the account's API key. conversationKey = call_id,
 * channelIdentity = agent_id (to_number is on `to`), providerEventId = call_id + ':' + event.
 */
export const retellAdapter: InboundAdapter = {
  provider: 'retell',
  identity: retellIdentity,
  channelTypes: ['voice'],
  secretNames: ['api_key'],
  verifySecretName: 'api_key',
  verify: verifyRetell,
  parse: parseRetell,
};
