/**
 * MCP session ids that any node of the installation can check: `<uuid>.<mac>`, the MAC an HMAC of
 * (uuid, API key id) under a key derived from the installation's secret key. A node that does not
 * hold a session can thus tell one this installation opened for this key (it re-creates it) from
 * a guessed or another key's id (404). The id reveals nothing: the MAC is over random bytes and
 * the key's id, not the key.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

const SHAPE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/;

export class SessionIds {
  constructor(private readonly key: Buffer) {}

  private mac(id: string, owner: string): Buffer {
    return createHmac('sha256', this.key).update(`mcp-session\n${id}\n${owner}`).digest();
  }

  /** A new session id for the API key `owner` (its id, or `operator` for the environment key). */
  issue(owner: string): string {
    const id = randomUUID();
    return `${id}.${this.mac(id, owner).toString('base64url')}`;
  }

  /** Whether `sessionId` was issued by this installation for `owner`. */
  valid(sessionId: string, owner: string): boolean {
    const m = SHAPE.exec(sessionId);
    if (!m) return false;
    const given = Buffer.from(m[2], 'base64url');
    const expected = this.mac(m[1], owner);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
