/**
 * Canonical identities: the one form of a bot name, number or address that uniqueness and
 * routing compare, so that `@Acme_Bot`, `acme_bot ` and `ACME_BOT` are one bot and
 * `whatsapp:+1 (555) 000-1111` and `15550001111` one number. What the user sent is kept for
 * display; only these forms decide which channel an event or a send belongs to.
 *
 * Each provider folder has an identity.ts with its rules (see IdentityRules); core reads them from
 * the adapter objects and never names a provider.
 */

/** How one provider's channel identities are canonicalised. */
export interface IdentityRules {
  /**
   * Channel config keys whose values also name the channel to the provider (route inbound
   * events, or are used as the sender of outbound ones): they are identities, unique per provider.
   */
  readonly identityConfigKeys: readonly string[];
  /**
   * The canonical form of one identity value (`key` is `external_identifier` or a config key);
   * '' when nothing identifying is left (refused with 422).
   */
  canonical(value: string, key: string): string;
  /**
   * What a canonical identity claims beyond itself on a shared platform credential (an email
   * address claims its domain: a platform key that may send from any of the account's domains
   * must not let one tenant send as `ceo@` of another tenant's domain). Undefined: nothing.
   */
  sharedScope?(canonical: string): string | undefined;
}

/** The domain of a canonical email address, as the scope it claims on a shared credential. */
export function emailDomainScope(canonical: string): string | undefined {
  const at = canonical.lastIndexOf('@');
  return at > 0 ? `domain:${canonical.slice(at + 1)}` : undefined;
}

/** Whitespace trimmed, case-folded: the rule for anything without a more specific one. */
export function canonicalText(value: string): string {
  return value.normalize('NFKC').trim().toLowerCase();
}

const PHONE_PUNCTUATION = /[\s\-.()\u00a0\u2010-\u2015]/g;

/**
 * E.164 with a leading `+` when the value is a phone number (after stripping `whatsapp:`, `tel:`,
 * `sms:`, spaces, dashes, dots and parentheses, 7 to 15 digits with or without `+`); undefined
 * otherwise (a short code, an alphanumeric sender, an id).
 */
export function canonicalPhone(value: string): string | undefined {
  const v = value.normalize('NFKC').trim().replace(/^(?:whatsapp|tel|sms):/i, '').replace(PHONE_PUNCTUATION, '');
  const m = /^(\+|00)?(\d{7,15})$/.exec(v);
  return m ? `+${m[2]}` : undefined;
}

/** A phone number's E.164 form, else the trimmed case-folded text (short codes, ids). */
export function canonicalPhoneOrText(value: string): string {
  return canonicalPhone(value) ?? canonicalText(value.replace(/^\s*(?:whatsapp|tel|sms):/i, ''));
}

/**
 * The bare address of `Name <a@b.example>`, `mailto:a@b.example` or `a@b.example`, case-folded
 * (the local part too: no mail provider Switchboard serves treats case as significant).
 */
export function canonicalEmail(value: string): string {
  let v = value.normalize('NFKC').trim();
  const angle = /<([^<>]*)>\s*$/.exec(v);
  if (angle) v = angle[1];
  return v.trim().replace(/^mailto:/i, '').trim().toLowerCase();
}

/** Rules for providers Switchboard does not know: the external identifier, trimmed and case-folded. */
export const defaultIdentityRules: IdentityRules = {
  identityConfigKeys: [],
  canonical: (value) => canonicalText(value),
};

/**
 * Every canonical identity of one channel (its external identifier and the identity config keys
 * that hold strings), deduplicated. Problems (non-string or empty values) are returned as issues.
 */
export function channelIdentities(
  rules: IdentityRules,
  externalIdentifier: string,
  config: Record<string, unknown>,
): { identities: string[]; problems: { key: string; message: string }[] } {
  const out = new Set<string>();
  const problems: { key: string; message: string }[] = [];
  const ext = rules.canonical(externalIdentifier, 'external_identifier');
  if (!ext) problems.push({ key: 'external_identifier', message: 'external_identifier has no identifying characters' });
  else out.add(ext);
  for (const key of rules.identityConfigKeys) {
    const v = config[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') {
      problems.push({ key, message: `config.${key} must be a string` });
      continue;
    }
    const c = rules.canonical(v, key);
    if (!c) problems.push({ key, message: `config.${key} has no identifying characters` });
    else out.add(c);
  }
  return { identities: [...out], problems };
}
