/** Gmail mailboxes: Pub/Sub pushes name the mailbox (`emailAddress`); replies go out from it. */
import { canonicalEmail, type IdentityRules } from '../shared/identity.js';

export const gmailIdentity: IdentityRules = {
  identityConfigKeys: ['address', 'email', 'email_address', 'from'],
  canonical: (value) => canonicalEmail(value),
};
