import type { AdapterContext, RawRequest, VerifyResult } from '../contract.js';
import { safeEqual } from '../shared/compare.js';
import { deny, header, ok } from '../shared/webhook.js';

/** Telegram echoes the setWebhook `secret_token` in this header on every call. */
export async function verifyTelegram(req: RawRequest, ctx: AdapterContext): Promise<VerifyResult> {
  if (!ctx.verifySecret) return deny(401, 'no webhook secret configured for this channel');
  const got = header(req, 'x-telegram-bot-api-secret-token');
  if (!got) return deny(401, 'missing X-Telegram-Bot-Api-Secret-Token');
  return safeEqual(got, ctx.verifySecret) ? ok : deny(403, 'secret token mismatch');
}
