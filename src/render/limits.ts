/**
 * Provider text limits the renderers split against. Units are documented per constant because
 * each provider counts differently; the splitter's counting rules live in split.ts.
 */

/** Telegram sendMessage/editMessageText: 4096 UTF-16 units of text after entity parsing. */
export const TELEGRAM_TEXT_LIMIT = 4096;
/** Telegram media captions: 1024 after entity parsing. */
export const TELEGRAM_CAPTION_LIMIT = 1024;
/** WhatsApp Cloud API text.body. */
export const WHATSAPP_TEXT_LIMIT = 4096;
/** Twilio Messages API Body (SMS and WhatsApp via Twilio). */
export const TWILIO_BODY_LIMIT = 1600;
/** One SMS segment: GSM-7 septets / UCS-2 code units, single vs. concatenated (UDH eats the rest). */
export const SMS_GSM7_SINGLE = 160;
export const SMS_GSM7_MULTI = 153;
export const SMS_UCS2_SINGLE = 70;
export const SMS_UCS2_MULTI = 67;
/** Default size of one text-to-speech chunk: short enough that the first audio starts quickly. */
export const SPEECH_CHUNK_CHARS = 250;
/** Email has no practical body limit; Infinity means "never split". */
export const EMAIL_TEXT_LIMIT = Number.POSITIVE_INFINITY;
