/** Web chat channels are named freely (a site, a widget); the URL routes, the name only has to be unique. */
import { canonicalText, type IdentityRules } from '../shared/identity.js';

export const webIdentity: IdentityRules = {
  identityConfigKeys: [],
  canonical: (value) => canonicalText(value),
};
