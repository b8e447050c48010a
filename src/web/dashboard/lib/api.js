// @ts-check
// The API client: every call carries the API key the operator signed in with (kept in
// sessionStorage, so it is gone when the tab closes). What a key may see is the API's business: a
// scoped key simply gets its own instances and a 403 where it may not act.

const KEY_STORE = 'switchboard-api-key';

/** @type {string | null} */
let key = sessionStorage.getItem(KEY_STORE);
/** @type {(message: string) => void} */
let unauthorized = () => {};

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {any} body
   */
  constructor(status, body) {
    super(typeof body?.detail === 'string' ? body.detail : `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export const currentKey = () => key;

/** @param {string | null} k */
export function setKey(k) {
  key = k;
  if (k) sessionStorage.setItem(KEY_STORE, k);
  else sessionStorage.removeItem(KEY_STORE);
}

/** What to do when the key is refused (401): the shell signs out. @param {(message: string) => void} fn */
export function onUnauthorized(fn) {
  unauthorized = fn;
}

/** Headers of an authenticated request. @param {Record<string, string>} [extra] */
export const authHeaders = (extra = {}) => ({ 'x-api-key': key ?? '', ...extra });

/**
 * One JSON call. Errors throw ApiError with the parsed body (422s keep `detail` as the issue list).
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @param {Record<string, string>} [headers]
 * @returns {Promise<any>}
 */
export async function api(method, path, body, headers = {}) {
  /** @type {RequestInit & {headers: Record<string, string>}} */
  const init = { method, headers: authHeaders(headers) };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  const text = await r.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text };
  }
  if (r.status === 401) {
    unauthorized('That API key was refused. Sign in again.');
    throw new ApiError(401, data);
  }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

/** Tries a key without signing in with it. @param {string} k */
export async function checkKey(k) {
  const r = await fetch('/v1/instances', { headers: { 'x-api-key': k } });
  if (!r.ok) throw new Error(r.status === 401 ? 'That API key was refused.' : `Could not sign in (HTTP ${r.status}).`);
}
