/**
 * The Gmail calls the inbound path needs (token refresh, history.list, messages.list after a stale
 * history, messages.get raw).
 * Only reads, for parse; the outbound Gmail API client (api.ts) is another engineer's.
 */
import type { AdapterContext } from '../contract.js';
import { ProviderFetchError } from '../shared/errors.js';
import { fetchJson } from '../shared/fetch-json.js';
import { isObj } from '../shared/guards.js';
import { joinUrl } from '../shared/http.js';
import { stringSetting } from '../shared/webhook.js';

const TOKEN_URL = 'https://oauth2.googleapis.com/token';
const MAX_PAGES = 10;
/** Our own sends and drafts also appear as messageAdded; they are not inbound mail. */
const SKIP_LABELS = new Set(['SENT', 'DRAFT']);

export function isInboundMail(labelIds: string[]): boolean {
  return !labelIds.some((l) => SKIP_LABELS.has(l));
}

export interface GmailMessageRef {
  id: string;
  threadId: string;
  labelIds: string[];
}

export class HistoryReader {
  private token?: string;

  constructor(private readonly ctx: AdapterContext) {}

  private async accessToken(): Promise<string> {
    if (this.token) return this.token;
    const { client_id, client_secret, refresh_token } = this.ctx.secrets;
    if (!client_id || !client_secret || !refresh_token) throw new ProviderFetchError('gmail', 'connection lacks client_id, client_secret or refresh_token');
    const url = stringSetting(this.ctx.settings.oauth_token_url) ?? TOKEN_URL;
    const form = new URLSearchParams({ grant_type: 'refresh_token', client_id, client_secret, refresh_token });
    const res = await fetchJson(this.ctx.fetch, 'gmail', 'refreshing the access token', url, { method: 'POST', form });
    if (!isObj(res) || typeof res.access_token !== 'string') throw new ProviderFetchError('gmail', 'token answer has no access_token');
    this.token = res.access_token;
    return this.token;
  }

  private async get(what: string, path: string): Promise<unknown> {
    const token = await this.accessToken();
    return fetchJson(this.ctx.fetch, 'gmail', what, joinUrl(this.ctx.apiBaseUrl, path), { headers: { authorization: `Bearer ${token}` } });
  }

  /** Messages added since `start`, or 'stale' when Gmail no longer has that history (404). */
  async addedMessages(start: string): Promise<GmailMessageRef[] | 'stale'> {
    const seen = new Map<string, GmailMessageRef>();
    let pageToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const q = new URLSearchParams({ startHistoryId: start, historyTypes: 'messageAdded' });
      if (pageToken) q.set('pageToken', pageToken);
      let res: unknown;
      try {
        res = await this.get('history.list', `/gmail/v1/users/me/history?${q}`);
      } catch (err) {
        if (err instanceof ProviderFetchError && err.status === 404) return 'stale';
        throw err;
      }
      if (!isObj(res)) throw new ProviderFetchError('gmail', 'history.list answer is not an object');
      for (const h of Array.isArray(res.history) ? res.history : []) {
        const added = isObj(h) && Array.isArray(h.messagesAdded) ? h.messagesAdded : [];
        for (const a of added) {
          const ref = messageRef(isObj(a) ? a.message : undefined);
          if (ref && isInboundMail(ref.labelIds)) seen.set(ref.id, ref);
        }
      }
      pageToken = typeof res.nextPageToken === 'string' ? res.nextPageToken : undefined;
      if (!pageToken) break;
    }
    return [...seen.values()];
  }

  /**
   * Inbox messages received after `afterSeconds` (Unix time), oldest first: the way back in when
   * the history is stale. messages.list gives ids only (labels come with messages.get).
   */
  async inboxSince(afterSeconds: number): Promise<GmailMessageRef[]> {
    const out: GmailMessageRef[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const q = new URLSearchParams({ labelIds: 'INBOX', q: `after:${Math.floor(afterSeconds)}`, maxResults: '100' });
      if (pageToken) q.set('pageToken', pageToken);
      const res = await this.get('messages.list', `/gmail/v1/users/me/messages?${q}`);
      if (!isObj(res)) throw new ProviderFetchError('gmail', 'messages.list answer is not an object');
      for (const m of Array.isArray(res.messages) ? res.messages : []) {
        const ref = messageRef(m);
        if (ref) out.push(ref);
      }
      pageToken = typeof res.nextPageToken === 'string' ? res.nextPageToken : undefined;
      if (!pageToken) break;
    }
    return out.reverse(); // Gmail lists newest first
  }

  /** messages.get format=raw; undefined when the message is gone (deleted since the push). */
  async rawMessage(id: string): Promise<(GmailMessageRef & { raw: string; internalDate?: string }) | undefined> {
    let res: unknown;
    try {
      res = await this.get('messages.get', `/gmail/v1/users/me/messages/${encodeURIComponent(id)}?format=raw`);
    } catch (err) {
      if (err instanceof ProviderFetchError && err.status === 404) return undefined;
      throw err;
    }
    const ref = messageRef(res);
    if (!ref || !isObj(res) || typeof res.raw !== 'string') throw new ProviderFetchError('gmail', 'messages.get answer lacks id, threadId or raw');
    return { ...ref, raw: res.raw, ...(typeof res.internalDate === 'string' ? { internalDate: res.internalDate } : {}) };
  }
}

function messageRef(v: unknown): GmailMessageRef | undefined {
  if (!isObj(v) || typeof v.id !== 'string' || typeof v.threadId !== 'string') return undefined;
  const labelIds = Array.isArray(v.labelIds) ? v.labelIds.filter((l): l is string => typeof l === 'string') : [];
  return { id: v.id, threadId: v.threadId, labelIds };
}
