/**
 * A compact RFC 2822 / MIME reader for Gmail `format=raw` messages: headers (unfolded, RFC 2047
 * decoded), the first text/plain and text/html bodies (multipart/*, base64, quoted-printable,
 * any charset TextDecoder knows) and the attachments' names. Bodies are handled as latin1 strings
 * so every byte survives until its charset is known.
 */

export interface ParsedMail {
  /** Lower-cased names; the first occurrence of a repeated header wins. */
  headers: Map<string, string>;
  text?: string;
  html?: string;
  attachments: { fileName: string; contentType?: string; size?: number }[];
}

const MAX_DEPTH = 8;

export function parseMail(raw: Buffer): ParsedMail {
  const mail: ParsedMail = { headers: new Map(), attachments: [] };
  const { headers, body } = splitEntity(raw.toString('latin1'));
  mail.headers = headers;
  walk(headers, body, mail, 0);
  return mail;
}

function splitEntity(s: string): { headers: Map<string, string>; body: string } {
  const m = /\r?\n\r?\n/.exec(s);
  const head = m ? s.slice(0, m.index) : s;
  const body = m ? s.slice(m.index + m[0].length) : '';
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    // Raw 8-bit headers (RFC 6532) are UTF-8; encoded-words cover the 7-bit world.
    if (!headers.has(name)) headers.set(name, decodeWords(Buffer.from(line.slice(colon + 1).trim(), 'latin1').toString('utf8')));
  }
  return { headers, body };
}

interface HeaderValue {
  value: string;
  params: Map<string, string>;
}

function parseParams(v: string | undefined): HeaderValue {
  const params = new Map<string, string>();
  const [first, ...rest] = (v ?? '').split(';');
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    params.set(p.slice(0, eq).trim().toLowerCase().replace(/\*$/, ''), p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'));
  }
  return { value: first.trim().toLowerCase(), params };
}

function walk(headers: Map<string, string>, body: string, mail: ParsedMail, depth: number): void {
  const type = parseParams(headers.get('content-type') ?? 'text/plain; charset=us-ascii');
  const disposition = parseParams(headers.get('content-disposition'));
  const boundary = type.params.get('boundary');
  if (type.value.startsWith('multipart/') && boundary && depth < MAX_DEPTH) {
    for (const part of splitMultipart(body, boundary)) {
      const e = splitEntity(part);
      walk(e.headers, e.body, mail, depth + 1);
    }
    return;
  }
  const bytes = decodeTransfer(body, headers.get('content-transfer-encoding'));
  const fileName = disposition.params.get('filename') ?? type.params.get('name');
  const inline = disposition.value !== 'attachment' && !fileName;
  if (inline && type.value === 'text/plain' && mail.text === undefined) mail.text = decodeCharset(bytes, type.params.get('charset'));
  else if (inline && type.value === 'text/html' && mail.html === undefined) mail.html = decodeCharset(bytes, type.params.get('charset'));
  else if (!inline || !type.value.startsWith('text/')) mail.attachments.push({ fileName: fileName ?? 'attachment', contentType: type.value, size: bytes.length });
}

function splitMultipart(body: string, boundary: string): string[] {
  const delimiter = '--' + boundary;
  const parts: string[] = [];
  const chunks = body.split(delimiter);
  // chunks[0] is the preamble; a chunk starting with '--' is the close delimiter (then epilogue).
  for (const chunk of chunks.slice(1)) {
    if (chunk.startsWith('--')) break;
    parts.push(chunk.replace(/^[ \t]*\r?\n/, '').replace(/\r?\n$/, ''));
  }
  return parts;
}

function decodeTransfer(body: string, encoding: string | undefined): Buffer {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
  if (enc === 'quoted-printable') return decodeQp(body.replace(/=\r?\n/g, ''));
  return Buffer.from(body, 'latin1');
}

/** `=XX` escapes to bytes; everything else is already a byte (latin1 char). */
function decodeQp(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(s.charCodeAt(i) & 0xff);
  }
  return Buffer.from(out);
}

function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    // Unknown charset label: UTF-8 is the most likely truth and never throws.
    return new TextDecoder('utf-8').decode(bytes);
  }
}

/** RFC 2047 encoded-words (`=?UTF-8?B?...?=`, `=?iso-8859-1?Q?...?=`); adjacent words join. */
export function decodeWords(v: string): string {
  return v
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?*]+)(?:\*[^?]*)?\?([BbQq])\?([^?]*)\?=/g, (_m, charset: string, enc: string, text: string) => {
      const bytes = enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : decodeQp(text.replace(/_/g, ' '));
      return decodeCharset(bytes, charset);
    });
}
