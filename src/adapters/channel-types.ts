/** The six channel types of the seed API, in the order its error messages list them. */
export const CHANNEL_TYPES = ['telegram', 'whatsapp', 'voice', 'sms', 'email', 'web_chat'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];
