import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ProviderError } from '../../src/adapters/shared/provider-error.js';
import type { ProviderErrorKind } from '../../src/adapters/shared/provider-error.js';

/** A loopback URL on which nothing listens (a port opened and closed again). */
export async function closedPortUrl(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

/** Awaits a rejection and checks it is a ProviderError of that kind; returns it for more checks. */
export async function expectProviderError(p: Promise<unknown>, kind: ProviderErrorKind): Promise<ProviderError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ProviderError, `expected ProviderError, got ${String(err)}`);
    assert.equal(err.kind, kind, `kind (code ${err.code}: ${err.message})`);
    return err;
  }
  assert.fail(`expected a ProviderError of kind ${kind}`);
}

/** Asserts no secret string appears in an error's message or JSON form. */
export function assertNoSecret(err: Error, ...secrets: string[]): void {
  const text = err.message + JSON.stringify(err);
  for (const s of secrets) assert.ok(!text.includes(s), 'secret leaked into the error');
}
