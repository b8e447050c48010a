import { twilioIdentity } from './identity.js';
import { twilioMedia } from './media.js';
import { MB, type InboundPart, type ProviderAdapter, type WebhookReply } from '../contract.js';
import { parseTwilio } from './parse.js';
import { twilioProvision } from './provision.js';
import { twilioOutbound } from './send.js';
import { twilioVoiceUrl } from './urls.js';
import { verifyTwilio } from './verify.js';

/** Twilio waits for TwiML; an empty Response means "nothing to say or do". */
const EMPTY_TWIML: WebhookReply = {
  status: 200,
  contentType: 'text/xml',
  body: '<?xml version="1.0" encoding="UTF-8"?><Response></Response>',
};

/** The inbound part on its own (adapter unit tests call it directly). */
export const twilioAdapter: InboundPart = { verify: verifyTwilio, parse: parseTwilio, ack: () => EMPTY_TWIML };

/**
 * Twilio SMS, WhatsApp-via-Twilio and Voice. conversationKey = the remote number without
 * `whatsapp:` (calls: CallSid), channelIdentity = our number, providerEventId = MessageSid,
 * MessageSid:status or CallSid:CallStatus.
 */
export const twilio: ProviderAdapter = {
  name: 'twilio',
  displayName: 'Twilio',
  channelTypes: ['sms', 'whatsapp', 'voice'],
  secrets: { required: ['account_sid', 'auth_token'], optional: [], verify: 'auth_token' },
  api: { defaultBaseUrl: 'https://api.twilio.com', env: 'SWITCHBOARD_TWILIO_API_URL' },
  // MMS carries up to 10 media with the (last) text.
  capabilities: { format: 'plain', maxTextLength: 1600, maxAttachments: 10, drafts: false, typing: false, edit: false, customerCareWindowHours: null },
  channelCapabilities: { whatsapp: { format: 'whatsapp', customerCareWindowHours: 24 }, voice: { format: 'speech' } },
  // MMS: 5 MB per message, 10 media.
  attachmentLimits: { maxCount: 10, perFile: () => 5 * MB, total: 5 * MB },
  identity: twilioIdentity,
  inbound: twilioAdapter,
  outbound: twilioOutbound,
  media: twilioMedia,
  provision: twilioProvision,
  voiceLinks: ({ publicUrl, channelId, channelType }): Record<string, string> => (channelType === 'voice' ? { twilio_voice_url: twilioVoiceUrl(publicUrl, channelId) } : {}),
};
