import { resendIdentity } from './identity.js';
import type { InboundAdapter } from '../types.js';
import { parseResend } from './parse.js';
import { verifySvix } from './verify.js';

/**
 * Resend email webhooks (Svix-signed). The signing secret (`whsec_...`) is per webhook endpoint,
 * not the API key: a connection/channel carries it as the `webhook_secret` secret.
 * conversationKey = lower-cased thread root Message-ID, channelIdentity = the recipient address,
 * providerEventId = svix-id.
 */
export const resendAdapter: InboundAdapter = {
  provider: 'resend',
  identity: resendIdentity,
  channelTypes: ['email'],
  secretNames: ['api_key'],
  verifySecretName: 'webhook_secret',
  verify: verifySvix,
  parse: parseResend,
};
