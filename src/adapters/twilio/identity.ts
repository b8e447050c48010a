/**
 * Twilio senders: a number (E.164, `whatsapp:` stripped: SMS, WhatsApp and voice on one number
 * are one identity), a short code, or a Messaging Service (`config.messaging_service_sid`, which
 * sends from its own pool of numbers and so is an identity too).
 */
import { canonicalPhoneOrText, canonicalText, type IdentityRules } from '../shared/identity.js';

export function canonicalTwilioIdentity(value: string, key = 'external_identifier'): string {
  return key === 'messaging_service_sid' ? canonicalText(value) : canonicalPhoneOrText(value);
}

export const twilioIdentity: IdentityRules = {
  identityConfigKeys: ['messaging_service_sid'],
  canonical: canonicalTwilioIdentity,
};
