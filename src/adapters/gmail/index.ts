import type { InboundAdapter } from '../types.js';
import { parseGmail } from './parse.js';
import { verifyGmail } from './verify.js';

/**
 * Gmail via Pub/Sub push on a customer-owned OAuth connection. Verified by Google's OIDC token
 * (no shared secret); conversationKey = Gmail threadId, channelIdentity = the mailbox address,
 * providerEventId = Gmail message id.
 */
export const gmailAdapter: InboundAdapter = {
  provider: 'gmail',
  channelTypes: ['email'],
  secretNames: ['client_id', 'client_secret', 'refresh_token'],
  verify: verifyGmail,
  parse: parseGmail,
};
