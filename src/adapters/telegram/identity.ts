/** Telegram bots are named by their username: `@Acme_Bot`, `acme_bot` and `t.me/acme_bot` are one bot. */
import { canonicalText, type IdentityRules } from '../shared/identity.js';

export function canonicalTelegramUsername(value: string): string {
  return canonicalText(value).replace(/^(?:https?:\/\/)?(?:www\.)?(?:t\.me|telegram\.me)\//, '').replace(/^@+/, '').trim();
}

export const telegramIdentity: IdentityRules = {
  identityConfigKeys: [],
  canonical: (value) => canonicalTelegramUsername(value),
};
