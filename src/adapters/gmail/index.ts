import { gmailIdentity } from './identity.js';
import { MB, type InboundPart, type ProviderAdapter } from '../contract.js';
import { notificationOf, parseGmail } from './parse.js';
import { gmailProvision } from './provision.js';
import { gmailMedia } from './media.js';
import { gmailOutbound } from './send.js';
import { verifyGmail } from './verify.js';

/** The inbound part on its own (adapter unit tests call it directly). */
export const gmailAdapter: InboundPart = {
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

/**
 * Gmail via Pub/Sub push on a customer-owned OAuth connection. Verified by Google's OIDC token
 * (no shared secret); conversationKey = Gmail threadId, channelIdentity = the mailbox address,
 * providerEventId = Gmail message id.
 */
export const gmail: ProviderAdapter = {
  name: 'gmail',
  displayName: 'Gmail',
  channelTypes: ['email'],
  secrets: { required: ['client_id', 'client_secret', 'refresh_token'], optional: [] },
  api: { defaultBaseUrl: 'https://gmail.googleapis.com', env: 'SWITCHBOARD_GMAIL_API_URL' },
  capabilities: { format: 'email', maxTextLength: Infinity, maxAttachments: Infinity, drafts: false, typing: false, edit: false, customerCareWindowHours: null },
  // 25 MB per message with base64 included: about 18 MB of files.
  attachmentLimits: { maxCount: 20, perFile: () => 18 * MB, total: 18 * MB },
  identity: gmailIdentity,
  inbound: gmailAdapter,
  outbound: gmailOutbound,
  provision: gmailProvision,
  media: gmailMedia,
};
