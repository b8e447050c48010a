import { twilioIdentity } from './identity.js';
import type { InboundAdapter, WebhookReply } from '../types.js';
import { parseTwilio } from './parse.js';
import { verifyTwilio } from './verify.js';

/** Twilio waits for TwiML; an empty Response means "nothing to say or do". */
const EMPTY_TWIML: WebhookReply = {
  status: 200,
  contentType: 'text/xml',
  body: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
};

/**
 * Twilio SMS, WhatsApp-via-Twilio and Voice webhooks. conversationKey = the remote number without
 * `whatsapp:` (calls: CallSid), channelIdentity = our number, providerEventId = MessageSid,
 * MessageSid:status or CallSid:CallStatus.
 */
export const twilioAdapter: InboundAdapter = {
  provider: 'twilio',
  identity: twilioIdentity,
  channelTypes: ['sms', 'whatsapp', 'voice'],
  secretNames: ['account_sid', 'auth_token'],
  verifySecretName: 'auth_token',
  verify: verifyTwilio,
  parse: parseTwilio,
  ack: () => EMPTY_TWIML,
};
