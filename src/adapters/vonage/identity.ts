/**
 * Vonage numbers: E.164 however written (`+44 7700 900000`, `447700900000`, `whatsapp:+44…`) is one
 * number; Vonage itself writes the digits without '+', Switchboard's canonical form has the '+'.
 * An alphanumeric sender id (SMS) is compared as case-folded text.
 */
import { canonicalPhoneOrText, type IdentityRules } from '../shared/identity.js';

export const vonageIdentity: IdentityRules = {
  identityConfigKeys: [],
  canonical: (value) => canonicalPhoneOrText(value),
};
