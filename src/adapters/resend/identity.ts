/**
 * Resend addresses: the external identifier, `config.address` / `config.email` (the recipient that
 * routes inbound mail) and `config.from` (the sender of replies) are all this channel's addresses.
 */
import { canonicalEmail, emailDomainScope, type IdentityRules } from '../shared/identity.js';

export const resendIdentity: IdentityRules = {
  identityConfigKeys: ['address', 'email', 'email_address', 'from'],
  canonical: (value) => canonicalEmail(value),
  sharedScope: emailDomainScope,
};
