/**
 * Outbound HTTP to URLs that tenants choose (agent URLs, a connection's api_base_url) must not
 * reach the operator's private network. The check runs where the socket is opened — in the DNS
 * lookup of the connection — so a hostname that resolves to a public address at validation time
 * and a private one later (DNS rebinding) is still refused. Redirects are never followed.
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

export class BlockedUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlockedUrlError';
  }
}

type LookupCb = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

function guardedLookup(hostname: string, options: object, cb: LookupCb): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return cb(err, []);
    const list = addresses as LookupAddress[];
    const bad = list.find((a) => isPrivateAddress(a.address));
    if (bad) return cb(Object.assign(new BlockedUrlError(`${hostname} resolves to a private address`), { code: 'EBLOCKED' }), []);
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
    throw new BlockedUrlError('not a valid URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new BlockedUrlError('only http and https URLs are allowed');
  if (allowPrivate) return;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && isPrivateAddress(host)) throw new BlockedUrlError(`${host} is a private address`);
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal')) throw new BlockedUrlError(`${host} is not a public host`);
}

/**
 * A fetch for tenant-chosen URLs: no redirects, and (unless private URLs are allowed by the
 * operator) no connections to private addresses.
 */
export function makeGuardedFetch(allowPrivate: boolean): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    checkUrl(url, allowPrivate);
    const res = await undiciFetch(url, { ...(init as object), redirect: 'manual', ...(allowPrivate ? {} : { dispatcher: guardedAgent }) } as never);
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
