/**
 * The AWS SDK's HTTP layer, through our own client: the S3 blob store (media/s3-store.ts) hands
 * this to `new S3Client({ requestHandler })`, so its requests too pass src/net (the boundary test
 * allows no other HTTP client). The bucket's endpoint is the operator's configuration
 * (SWITCHBOARD_MEDIA_STORE), so it is trusted like SWITCHBOARD_*_API_URL: the address check is
 * off, redirects are never followed, and the connection pool is this handler's own.
 *
 * It speaks the SDK's handler shape (`handle(request) -> {response}`) with plain objects: the SDK
 * recognises requests and responses by their fields, not their classes.
 */
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { checkUrl } from './ssrf.js';

interface SdkRequest {
  protocol: string;
  hostname: string;
  port?: number;
  method: string;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
  username?: string;
  password?: string;
}

interface SdkResponse {
  statusCode: number;
  reason?: string;
  headers: Record<string, string>;
  body: Readable;
}

function queryString(query: SdkRequest['query']): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query ?? {})) {
    const key = encodeURIComponent(k);
    if (v === null) parts.push(key);
    else for (const one of Array.isArray(v) ? v : [v]) parts.push(`${key}=${encodeURIComponent(one)}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

export class S3HttpHandler {
  readonly metadata = { handlerProtocol: 'http/1.1' };
  private readonly agent: Agent;

  constructor(opts: { timeoutMs?: number } = {}) {
    const timeout = opts.timeoutMs ?? 60_000;
    this.agent = new Agent({ keepAliveTimeout: 10_000, headersTimeout: timeout, bodyTimeout: timeout });
  }

  async handle(req: SdkRequest, opts: { abortSignal?: AbortSignal } = {}): Promise<{ response: SdkResponse }> {
    const port = req.port ? `:${req.port}` : '';
    const url = `${req.protocol}//${req.hostname}${port}${req.path}${queryString(req.query)}`;
    checkUrl(url, true);
    // The SDK asks for `Expect: 100-continue` on large bodies; undici does not do that handshake
    // (it refuses the header), so the body goes with the request, as S3 also accepts.
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.toLowerCase() !== 'expect'));
    const res = await request(url, {
      method: req.method as 'GET',
      headers,
      body: req.body as Buffer | string | Readable | undefined,
      signal: opts.abortSignal,
      dispatcher: this.agent,
    });
    const answer: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) answer[k] = Array.isArray(v) ? v.join(', ') : v;
    return { response: { statusCode: res.statusCode, headers: answer, body: res.body } };
  }

  updateHttpClientConfig(): void {}

  httpHandlerConfigs(): Record<string, never> {
    return {};
  }

  destroy(): void {
    void this.agent.close();
  }
}
