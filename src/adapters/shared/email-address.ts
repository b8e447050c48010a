/** `Ada Lovelace <ada@example.com>` -> { email, name }; a bare address passes through. */
export function parseAddress(s: string): { email: string; name?: string } {
  const m = /^\s*(?:"?([^"<]*?)"?\s*)?<([^<>\s]+)>\s*$/.exec(s);
  if (m) {
    const name = m[1]?.trim();
    return { email: m[2].toLowerCase(), ...(name ? { name } : {}) };
  }
  return { email: s.trim().toLowerCase() };
}

/** Message-ids from a References / In-Reply-To header value, angle brackets kept. */
export function messageIds(v: string | undefined): string[] {
  return v ? (v.match(/<[^<>\s]+>/g) ?? []) : [];
}

/**
 * The thread key: the root Message-ID (first of References, else In-Reply-To, else the email's
 * own Message-ID), lower-cased so clients that change case still land in one conversation.
 */
export function threadRoot(references: string[], inReplyTo: string | undefined, messageId: string | undefined): string | undefined {
  const root = references[0] ?? messageIds(inReplyTo)[0] ?? inReplyTo ?? messageId;
  return root?.toLowerCase();
}

/** Splits an address-list header (`a@x, "Doe, Jo" <jo@y>`) on commas outside quotes and <>. */
export function splitAddressList(v: string | undefined): string[] {
  if (!v) return [];
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let angle = false;
  for (const ch of v) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '<') angle = true;
    else if (!quoted && ch === '>') angle = false;
    if (ch === ',' && !quoted && !angle) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}
