import { createHash, createHmac } from 'node:crypto';

/**
 * Twilio's signature: base64(HMAC-SHA1(auth_token, url + every param as key+value)), keys sorted;
 * a repeated key contributes each distinct value, values sorted (this is what twilio-node does).
 */
export function twilioSignature(authToken: string, url: string, params: Map<string, string[]>): string {
  let data = url;
  for (const key of [...params.keys()].sort()) {
    for (const value of [...new Set(params.get(key))].sort()) data += key + value;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

export function sha256Hex(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

/** Form body -> key -> values (URLSearchParams decodes `+` as space, like Twilio expects). */
export function formParams(body: Buffer): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [k, v] of new URLSearchParams(body.toString('utf8'))) {
    const list = out.get(k);
    if (list) list.push(v);
    else out.set(k, [v]);
  }
  return out;
}

const DEFAULT_PORTS: Record<string, string> = { 'https:': '443', 'http:': '80' };

/**
 * The URL as configured, plus the same URL with its default port removed and added: Twilio signs
 * whichever form was configured and proxies disagree on whether to show `:443`.
 */
export function urlVariants(publicUrl: string): string[] {
  const variants = new Set<string>([publicUrl]);
  let u: URL;
  try {
    u = new URL(publicUrl);
  } catch {
    return [...variants];
  }
  const defaultPort = DEFAULT_PORTS[u.protocol];
  // WHATWG URL already drops an explicit default port, so toString() is the "without" form.
  variants.add(u.toString());
  if (defaultPort && u.port === '') {
    const auth = u.username || u.password ? `${u.username}${u.password ? ':' + u.password : ''}@` : '';
    variants.add(`${u.protocol}//${auth}${u.hostname}:${defaultPort}${u.pathname}${u.search}${u.hash}`);
  }
  return [...variants];
}
