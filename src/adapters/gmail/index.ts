import { gmailIdentity } from './identity.js';
import type { InboundAdapter } from '../types.js';
import { notificationOf, parseGmail } from './parse.js';
import { verifyGmail } from './verify.js';

/**
 * Gmail via Pub/Sub push on a customer-owned OAuth connection. Verified by Google's OIDC token
 * (no shared secret); conversationKey = Gmail threadId, channelIdentity = the mailbox address,
 * providerEventId = Gmail message id.
 */
export const gmailAdapter: InboundAdapter = {
  provider: 'gmail',
  identity: gmailIdentity,
  channelTypes: ['email'],
  secretNames: ['client_id', 'client_secret', 'refresh_token'],
  verify: verifyGmail,
  parse: parseGmail,
  // The next read starts where this push ended, so mail that arrives between two pushes (or whose
  // pushes Gmail merged) is read, not skipped. Never moves backwards. `history_at` is when it last
  // moved: where a resync starts if the history has gone stale by the next push.
  configAfterCommit(req, config) {
    const note = notificationOf(req);
    const prev = typeof config.history_id === 'string' && /^\d+$/.test(config.history_id) ? BigInt(config.history_id) : 0n;
    if (BigInt(note.historyId) <= prev) return undefined;
    return { identity: note.emailAddress, patch: { history_id: note.historyId, history_at: new Date().toISOString() } };
  },
};
