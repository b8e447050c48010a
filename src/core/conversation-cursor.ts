/**
 * The opaque `next_cursor` of conversation lists (REST and MCP): the (updated_at, id) of a page's
 * last row, base64url JSON, so the next page continues the same order without offsets.
 */
import { valueError } from '../errors.js';

export function encodeConversationCursor(updatedAt: string, id: string): string {
  return Buffer.from(JSON.stringify([updatedAt, id])).toString('base64url');
}

/** Throws a 422 at `loc` when `c` is not a cursor this API returned. */
export function decodeConversationCursor(c: string, loc: (string | number)[] = ['query', 'cursor']): { updatedAt: string; id: string } {
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'string') return { updatedAt: v[0], id: v[1] };
  } catch {
    // fall through
  }
  throw valueError(loc, 'not a cursor returned by this API (use next_cursor)', c);
}
