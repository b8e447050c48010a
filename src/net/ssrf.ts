/**
 * The one HTTP client of the server: every request Switchboard makes goes through here (a
 * boundary test, test/security/net-boundary.test.ts, fails on any other HTTP client in src/).
 *
 * Outbound HTTP to URLs that tenants choose (agent URLs, anything in a connection's settings:
 * api_base_url, oauth_token_url, jwks_url) must not reach the operator's private network. The
 * check runs where the socket is opened — in the DNS lookup of the connection — so a hostname
 * that resolves to a public address at validation time and a private one later (DNS rebinding)
 * is still refused. Redirects are never followed. The operator's own URLs (SWITCHBOARD_*_API_URL,
 * a platform credential's settings) are trusted: `trustedOrigins` and `trustedFetch`.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent, fetch as undiciFetch, request as undiciRequest, type Dispatcher } from 'undici';

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b::', 96], ['2001:db8::', 32]] as const) blocked.addSubnet(net, prefix, 'ipv6');

/** True for loopback, private, link-local, CGNAT, multicast and documentation addresses. */
export function isPrivateAddress(ip: string): boolean {
  const v = isIP(ip);
  if (v === 4) return blocked.check(ip, 'ipv4');
  if (v === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    if (mapped) return blocked.check(mapped[1], 'ipv4');
    return blocked.check(ip, 'ipv6');
  }
  return true;
}

/** A request refused before any byte was sent; the message starts with "refused: ". */
export class BlockedUrlError extends Error {
  readonly code = 'EBLOCKED';
  constructor(message: string) {
    super(message);
    this.name = 'BlockedUrlError';
  }
}

/** The BlockedUrlError anywhere in an error's cause chain (undici wraps lookup errors). */
export function blockedCause(err: unknown): BlockedUrlError | undefined {
  let cur: unknown = err;
  for (let depth = 0; depth < 6 && cur && typeof cur === 'object'; depth++) {
    if (cur instanceof BlockedUrlError) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

type LookupCb = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

function guardedLookup(hostname: string, options: object, cb: LookupCb): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return cb(err, []);
    const list = addresses as LookupAddress[];
    const bad = list.find((a) => isPrivateAddress(a.address));
    if (bad) return cb(new BlockedUrlError(`refused: private address (${hostname} resolves to ${bad.address})`) as NodeJS.ErrnoException, []);
    const opts = options as { all?: boolean };
    if (opts.all) cb(null, list);
    else cb(null, list[0].address, list[0].family);
  });
}

const guardedAgent = new Agent({ connect: { lookup: guardedLookup as never } });

/** Synchronous checks on the URL itself (scheme, literal private IPs) before any connection. */
export function checkUrl(url: string, allowPrivate: boolean): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BlockedUrlError('refused: not a valid URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new BlockedUrlError('refused: only http and https URLs are allowed');
  if (allowPrivate) return;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && isPrivateAddress(host)) throw new BlockedUrlError(`refused: private address (${host})`);
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal')) throw new BlockedUrlError(`refused: private address (${host} is not a public host)`);
}

/** Where a guarded client may go without the private-address check: the operator's own origins. */
export interface GuardOptions {
  /** SWITCHBOARD_ALLOW_PRIVATE_URLS: the operator allows every address. */
  allowPrivate: boolean;
  /** Origins (`http://127.0.0.1:8081`) the operator configured (SWITCHBOARD_*_API_URL): trusted. */
  trustedOrigins?: Iterable<string>;
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

function trusts(opts: GuardOptions): (url: string) => boolean {
  const origins = new Set([...(opts.trustedOrigins ?? [])].map(originOf).filter((o): o is string => o !== undefined && o !== 'null'));
  return (url) => opts.allowPrivate || origins.has(originOf(url) ?? '');
}

/**
 * undici's fetch (the npm package) does not know Node's global FormData, a class of another undici
 * copy, and would send it as the text "[object FormData]". Encode such a body with the global
 * Response, which gives the multipart bytes and their content-type with its boundary.
 */
async function portableInit(init: RequestInit | undefined): Promise<RequestInit | undefined> {
  if (!init || !(init.body instanceof globalThis.FormData)) return init;
  const encoded = new Response(init.body);
  const headers = new Headers(init.headers);
  headers.set('content-type', encoded.headers.get('content-type') ?? 'multipart/form-data');
  return { ...init, headers: Object.fromEntries(headers), body: Buffer.from(await encoded.arrayBuffer()) };
}

/**
 * For URLs only the operator chooses (SWITCHBOARD_*_API_URL, a platform credential's settings):
 * the same client without the address check. Redirects are still never followed.
 */
export const trustedFetch: typeof fetch = (async (input: string | URL | Request, init?: RequestInit) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  checkUrl(url, true);
  return (await undiciFetch(url, { ...((await portableInit(init)) as object), redirect: 'manual' } as never)) as unknown as Response;
}) as typeof fetch;

/**
 * A fetch for tenant-chosen URLs: no redirects, and (unless private URLs are allowed by the
 * operator) no connections to private addresses.
 */
export function makeGuardedFetch(guard: boolean | GuardOptions): typeof fetch {
  const trusted = trusts(typeof guard === 'boolean' ? { allowPrivate: guard } : guard);
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const open = trusted(url);
    checkUrl(url, open);
    const res = await undiciFetch(url, { ...((await portableInit(init)) as object), redirect: 'manual', ...(open ? {} : { dispatcher: guardedAgent }) } as never);
    return res as unknown as Response;
  }) as typeof fetch;
}

/** What a guarded request answers: undici's response data (status, lower-case headers, Node stream body). */
export type GuardedResponse = Dispatcher.ResponseData;
export type GuardedRequest = (url: string, init: { method: 'POST' | 'GET'; headers: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<GuardedResponse>;

/**
 * The same guard for undici's `request`, for hot paths (event delivery): it skips the WHATWG fetch
 * layers (Request/Response objects, web streams), which cost more CPU than the HTTP exchange
 * itself on a loopback agent. It never follows redirects either.
 */
export function makeGuardedRequest(allowPrivate: boolean): GuardedRequest {
  const shared = new Agent({ keepAliveTimeout: 10_000 });
  return (url, init) => {
    checkUrl(url, allowPrivate);
    return undiciRequest(url, { method: init.method, headers: init.headers, body: init.body, signal: init.signal, dispatcher: allowPrivate ? shared : guardedAgent });
  };
}
