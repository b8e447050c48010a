/**
 * A small RFC 2822/MIME reader for the fakes and tests: unfolds headers, decodes RFC 2047
 * encoded-words, splits multipart bodies and decodes base64/quoted-printable parts. Written
 * independently of the builder in src/ so the tests check one against the other.
 */

export interface ParsedPart {
  /** Header names lower-cased, values unfolded and decoded. */
  headers: Record<string, string>;
  /** Raw header values (unfolded, not decoded) for format checks. */
  rawHeaders: Record<string, string>;
  contentType: string;
  /** Decoded body text for leaf parts. */
  body: string;
  /** Decoded bytes of a base64 leaf part (attachments). */
  bytes?: Buffer;
  parts: ParsedPart[];
}

export function parseMail(message: string): ParsedPart {
  const sep = message.indexOf('\r\n\r\n');
  const head = sep < 0 ? message : message.slice(0, sep);
  const rest = sep < 0 ? '' : message.slice(sep + 4);
  const rawHeaders: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]/g, ' ').split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) rawHeaders[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(rawHeaders)) headers[k] = decodeWords(v);
  const contentType = (rawHeaders['content-type'] ?? 'text/plain').split(';')[0].trim().toLowerCase();
  const part: ParsedPart = { headers, rawHeaders, contentType, body: '', parts: [] };

  if (contentType.startsWith('multipart/')) {
    const m = /boundary="?([^";]+)"?/i.exec(rawHeaders['content-type'] ?? '');
    if (!m) return part;
    const delimiter = `--${m[1]}`;
    const chunks = rest.split(delimiter);
    // chunks[0] is the preamble; the chunk starting with "--" is the epilogue after the close.
    for (const chunk of chunks.slice(1)) {
      if (chunk.startsWith('--')) break;
      part.parts.push(parseMail(chunk.replace(/^\r\n/, '').replace(/\r\n$/, '')));
    }
    return part;
  }
  const cte = (rawHeaders['content-transfer-encoding'] ?? '7bit').toLowerCase();
  if (cte === 'base64') {
    part.bytes = Buffer.from(rest.replace(/\s+/g, ''), 'base64');
    part.body = part.bytes.toString('utf8');
  }
  else if (cte === 'quoted-printable') part.body = decodeQuotedPrintable(rest);
  else part.body = rest;
  return part;
}

/** Decodes RFC 2047 encoded-words; whitespace between adjacent encoded-words is dropped. */
export function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[bBqQ]\?[^?]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=/g, (_m, _charset: string, enc: string, text: string) => {
      if (enc.toUpperCase() === 'B') return Buffer.from(text, 'base64').toString('utf8');
      return decodeQuotedPrintable(text.replace(/_/g, ' '));
    });
}

function decodeQuotedPrintable(s: string): string {
  const bytes: number[] = [];
  const src = s.replace(/=\r\n/g, '');
  for (let i = 0; i < src.length; i++) {
    if (src[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(src.slice(i + 1, i + 3))) {
      bytes.push(parseInt(src.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(src[i], 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}
