/**
 * WhatsApp Cloud numbers: the external identifier is the number (E.164) or its Graph
 * phone_number_id, and `config.phone_number_id` routes inbound events and picks the sender. Both
 * are digit strings in one namespace (routing accepts either), so both canonicalise to `+digits`.
 */
import { canonicalPhone, canonicalText, type IdentityRules } from '../shared/identity.js';

export function canonicalMetaIdentity(value: string): string {
  const phone = canonicalPhone(value);
  if (phone) return phone;
  const digits = value.trim().replace(/[\s\-.()]/g, '');
  return /^\+?\d+$/.test(digits) ? `+${digits.replace(/^\+/, '')}` : canonicalText(value);
}

/** The Graph id to send from: the digits of config.phone_number_id, else of the external identifier. */
export function metaPhoneNumberId(config: Record<string, unknown>, externalIdentifier: string): string {
  const raw = typeof config.phone_number_id === 'string' ? config.phone_number_id : externalIdentifier;
  const digits = raw.trim().replace(/^(?:whatsapp|tel):/i, '').replace(/[\s\-.()+]/g, '');
  return /^\d+$/.test(digits) ? digits : raw.trim();
}

export const metaCloudIdentity: IdentityRules = {
  identityConfigKeys: ['phone_number_id'],
  canonical: (value) => canonicalMetaIdentity(value),
};
