/** Retell voice agents: `config.agent_id` routes call webhooks; the external identifier is the number or the agent. */
import { canonicalPhoneOrText, canonicalText, type IdentityRules } from '../shared/identity.js';

export function canonicalRetellIdentity(value: string, key = 'external_identifier'): string {
  return key === 'agent_id' ? canonicalText(value) : canonicalPhoneOrText(value);
}

export const retellIdentity: IdentityRules = {
  identityConfigKeys: ['agent_id'],
  canonical: canonicalRetellIdentity,
};
