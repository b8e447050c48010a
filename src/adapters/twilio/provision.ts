/**
 * Twilio numbers are pointed at their channel: the SMS webhook URL for SMS, the voice route
 * (`/v1/voice/twilio/{channel}`) as voice URL and status callback for voice. WhatsApp senders
 * are configured in Twilio's console, so for them only ownership is checked: the number must be
 * one of the account's WhatsApp senders (Senders API). Numbers keep their URLs on disable:
 * pointing them elsewhere is the customer's decision.
 */
import { ProvisionRefused, type ProvisionPart } from '../contract.js';
import { canonicalPhone } from '../shared/identity.js';
import { twilioApi } from './api.js';
import { twilioVoiceUrl } from './urls.js';

export const twilioProvision: ProvisionPart = {
  async register(ctx) {
    const api = twilioApi({ accountSid: ctx.secrets.account_sid, authToken: ctx.secrets.auth_token, baseUrl: ctx.apiBaseUrl, fetch: ctx.fetch, timeoutMs: ctx.timeoutMs });
    const number = canonicalPhone(ctx.externalIdentifier) ?? ctx.externalIdentifier.trim().replace(/^whatsapp:/, '');
    if (ctx.channelType === 'whatsapp') {
      // A WhatsApp sender need not be an incoming number of the account (it may be hosted
      // elsewhere), so the account's senders are what proves it; the shared sandbox number is
      // never one of them.
      const senders = (await api.listWhatsAppSenders()).map((n) => canonicalPhone(n) ?? n);
      if (!senders.includes(number)) throw new ProvisionRefused(`${number} is not a WhatsApp sender of this Twilio account: register it in Twilio (Messaging > Senders > WhatsApp senders) or fix external_identifier.`);
      return undefined;
    }
    // The account's own numbers prove which it holds: a channel naming another's is left in error.
    const found = await api.findIncomingNumber(number);
    if (!found) throw new ProvisionRefused(`${number} is not a phone number of this Twilio account.`);
    if (ctx.channelType === 'voice') {
      // Calls go to the voice routes (TwiML), hang-ups too (status callback).
      const voiceUrl = twilioVoiceUrl(ctx.publicUrl, ctx.channelId);
      await api.updateIncomingNumber({ phoneNumberSid: found.sid, voiceUrl, statusCallback: voiceUrl });
    } else {
      await api.updateIncomingNumber({ phoneNumberSid: found.sid, smsUrl: ctx.webhookUrl });
    }
    return undefined;
  },
};
