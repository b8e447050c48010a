/**
 * Builds the RFC 2822 / MIME message Gmail's messages.send expects (base64url in `raw`).
 * Headers are ASCII (RFC 2047 encoded-words for anything else), bodies are UTF-8 in base64,
 * every line ends in CRLF, and a header value with a line break is refused (header injection).
 *
 * Example:
 *   const raw = toBase64Url(buildRfc2822({ from: 'Bot <bot@x.test>', to: 'ann@y.test',
 *     subject: 'Re: Grüße', text: 'Hi', html: '<p>Hi</p>', inReplyTo: '<a@y.test>' }));
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ProviderError } from '../shared/provider-error.js';

export interface Rfc2822Input {
  from: string;
  to: string | string[];
  cc?: string | string[];
  subject: string;
  text: string;
  /** When absent the message is a single text/plain part. */
  html?: string;
  /** Message-ID of the message answered, with or without angle brackets. */
  inReplyTo?: string;
  references?: string | string[];
  /** Generated as <uuid@sender-domain> when absent. */
  messageId?: string;
  date?: Date;
  /** Files, as base64 parts of a multipart/mixed message. */
  attachments?: { fileName: string; mimeType: string; bytes: Buffer }[];
}

const CRLF = '\r\n';

export function buildRfc2822(input: Rfc2822Input): string {
  const messageId = input.messageId ? angle(input.messageId) : `<${randomUUID()}@${domainOf(input.from)}>`;
  const headers: [string, string][] = [
    ['From', addressList(input.from)],
    ['To', addressList(input.to)],
  ];
  if (input.cc && [input.cc].flat().length > 0) headers.push(['Cc', addressList(input.cc)]);
  headers.push(['Subject', encodeHeaderText(checked('Subject', input.subject))]);
  headers.push(['Date', rfc2822Date(input.date ?? new Date())]);
  headers.push(['Message-ID', checked('Message-ID', messageId)]);
  if (input.inReplyTo) headers.push(['In-Reply-To', checked('In-Reply-To', angle(input.inReplyTo))]);
  const refs = input.references === undefined ? [] : [input.references].flat().flatMap((r) => r.split(/\s+/)).filter(Boolean);
  if (refs.length > 0) headers.push(['References', refs.map((r) => checked('References', angle(r))).join(CRLF + ' ')]);
  headers.push(['MIME-Version', '1.0']);

  const textPart = part('text/plain', input.text);
  let content: { headers: [string, string][]; body: string };
  if (input.html === undefined) {
    content = textPart;
  } else {
    const boundary = `=_sb_${randomBytes(12).toString('hex')}`;
    const parts = [textPart, part('text/html', input.html)].map((p) => p.headers.map(([k, v]) => `${k}: ${v}`).join(CRLF) + CRLF + CRLF + p.body);
    content = { headers: [['Content-Type', `multipart/alternative; boundary="${boundary}"`]], body: parts.map((p) => `--${boundary}${CRLF}${p}${CRLF}`).join('') + `--${boundary}--${CRLF}` };
  }
  if (input.attachments?.length) {
    const boundary = `=_sb_mixed_${randomBytes(12).toString('hex')}`;
    const files = input.attachments.map((a) => {
      const name = encodeHeaderText(checked('filename', a.fileName.replace(/["\\]/g, '_')));
      const b64 = (a.bytes.toString('base64').match(/.{1,76}/g) ?? ['']).join(CRLF);
      return [`Content-Type: ${checked('Content-Type', a.mimeType)}; name="${name}"`, `Content-Disposition: attachment; filename="${name}"`, 'Content-Transfer-Encoding: base64'].join(CRLF) + CRLF + CRLF + b64;
    });
    const first = content.headers.map(([k, v]) => `${k}: ${v}`).join(CRLF) + CRLF + CRLF + content.body;
    content = { headers: [['Content-Type', `multipart/mixed; boundary="${boundary}"`]], body: [first, ...files].map((p) => `--${boundary}${CRLF}${p}${CRLF}`).join('') + `--${boundary}--${CRLF}` };
  }
  headers.push(...content.headers);
  return headers.map(([k, v]) => `${k}: ${v}`).join(CRLF) + CRLF + CRLF + content.body;
}

/** base64url without padding, as Gmail's `raw` field wants. */
export function toBase64Url(message: string | Uint8Array): string {
  return Buffer.from(message).toString('base64url');
}

function part(type: string, content: string): { headers: [string, string][]; body: string } {
  // Text is canonicalised to CRLF line breaks before encoding (RFC 2045 section 6.8).
  const canonical = content.replace(/\r?\n/g, CRLF);
  const b64 = Buffer.from(canonical, 'utf8').toString('base64');
  const lines = b64.match(/.{1,76}/g) ?? [''];
  return {
    headers: [['Content-Type', `${type}; charset=UTF-8`], ['Content-Transfer-Encoding', 'base64']],
    body: lines.join(CRLF),
  };
}

function checked(name: string, value: string): string {
  if (/[\r\n\0]/.test(value)) {
    throw new ProviderError({ provider: 'gmail', kind: 'permanent', code: 'invalid_header', message: `The ${name} header contains a line break, which is not allowed.` });
  }
  return value;
}

function angle(id: string): string {
  const t = id.trim();
  return t.startsWith('<') ? t : `<${t}>`;
}

function domainOf(address: string): string {
  const m = /@([^\s>]+)/.exec(address);
  return m ? m[1] : 'switchboard.invalid';
}

/** `Thu, 26 Nov 2026 23:07:28 +0000` */
function rfc2822Date(d: Date): string {
  return d.toUTCString().replace(/GMT$/, '+0000');
}

function addressList(value: string | string[]): string {
  return [value].flat().map((a) => formatAddress(checked('address', a))).join(', ');
}

/** `Name <a@b>` with the display name quoted or encoded as needed; a bare address stays bare. */
function formatAddress(address: string): string {
  const m = /^\s*(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(address);
  if (!m) return address.trim();
  const name = m[1].replace(/^"(.*)"$/, '$1');
  if (name === '') return `<${m[2]}>`;
  if (!isAscii(name)) return `${encodedWords(name)} <${m[2]}>`;
  // RFC 5322 specials force a quoted-string.
  const display = /[()<>[\]:;@\\,."]/.test(name) ? `"${name.replace(/(["\\])/g, '\\$1')}"` : name;
  return `${display} <${m[2]}>`;
}

function isAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

/** Unstructured text (Subject): encoded-words when not printable ASCII, else folded at spaces. */
function encodeHeaderText(s: string): string {
  if (!isAscii(s)) return encodedWords(s);
  if (s.length <= 70) return s;
  const words = s.split(' ');
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    if (cur !== '' && cur.length + 1 + w.length > 70) {
      lines.push(cur);
      cur = w;
    } else cur = cur === '' ? w : `${cur} ${w}`;
  }
  lines.push(cur);
  return lines.join(CRLF + ' ');
}

/**
 * RFC 2047 B-encoding, never splitting a character across words, folded onto continuation lines.
 * 39 UTF-8 bytes make a 64-character word, so even the first line ("Subject: " + word) stays
 * under the recommended 78 characters.
 */
function encodedWords(s: string): string {
  const words: string[] = [];
  let chunk = '';
  for (const ch of s) {
    if (Buffer.byteLength(chunk + ch) > 39) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join(CRLF + ' ');
}
