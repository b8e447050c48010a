/**
 * Every outbound HTTP request of the server goes through the one guarded client in src/net/
 * (issue 10, item 3). This test reads every TypeScript file under src/ and fails on any other way
 * to make a request: the global fetch (called, or passed on as a value), globalThis.fetch,
 * undici, node:http/https request/get, axios/got/node-fetch, jose's remote JWKS fetcher, or a
 * WebSocket client. Type-only imports and property accesses (`ctx.fetch(...)`, an injected
 * client) are fine: what they hold was built in src/net/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const SRC = join(ROOT, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return files(p);
    return /\.(ts|mts|cts|js|mjs)$/.test(n) ? [p] : [];
  });
}

/** Source text without comments and string contents (so prose and messages cannot trip the scan). */
function code(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; ) {
    const c = text[i];
    const n = text[i + 1];
    if (c === '/' && n === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && n === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (c === '"' || c === "'" || c === '`') {
      // Import specifiers are kept (they are what some rules look at); other strings are blanked.
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      const body = text.slice(i + 1, j);
      const before = out.trimEnd();
      const isSpecifier = /(\bfrom|\bimport|\brequire\(|\bimport\()\s*$/.test(before);
      out += c + (isSpecifier ? body : body.replace(/[^\n]/g, ' ')) + c;
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

const RULES: { what: string; re: RegExp }[] = [
  // `fetch` as a value: a call `fetch(`, or passed on (`: fetch,`, `?? fetch`). Not `x.fetch`,
  // not `typeof fetch`, not a property/parameter name (`fetch:` / `fetch?:`).
  { what: 'the global fetch', re: /(?<![\w$.\-/]|typeof\s)fetch(?![\w$\-])(?!\s*\??:)/ },
  { what: 'globalThis.fetch', re: /globalThis\s*\.\s*fetch\b/ },
  { what: 'undici', re: /(?:from|import|require\()\s*['"]undici['"]/ },
  // node:http is fine for serving (createServer, types); its client side (request, get, Agent) is not.
  { what: 'the node:http / node:https client', re: /import\s*(?:\*\s*as\s+\w+|\w+\s*(?:,\s*\{[^}]*\})?|\{[^}]*\b(?:request|get|Agent|globalAgent)\b[^}]*\})\s*from\s*['"](?:node:)?https?['"]|require\(\s*['"](?:node:)?https?['"]\s*\)/ },
  { what: 'https.request / http.get', re: /\bhttps?\s*\.\s*(?:request|get)\s*\(/ },
  { what: 'an HTTP client library', re: /(?:from|require\()\s*['"](?:axios|got|node-fetch|superagent|request|needle|ky)['"]/ },
  { what: "jose's remote JWKS fetcher", re: /\bcreateRemoteJWKSet\b/ },
  { what: 'a WebSocket client', re: /new\s+WebSocket\s*\(/ },
];

test('no HTTP client outside src/net/', () => {
  const offences: string[] = [];
  const all = files(SRC);
  assert.ok(all.length > 50, 'the scan sees the source tree');
  for (const f of all) {
    const rel = relative(ROOT, f);
    if (rel.startsWith(join('src', 'net') + '/') || rel.startsWith(join('src', 'web') + '/')) continue; // the client itself; browser code
    const text = code(readFileSync(f, 'utf8'));
    for (const rule of RULES) {
      const m = rule.re.exec(text);
      if (m) {
        const line = text.slice(0, m.index).split('\n').length;
        offences.push(`${rel}:${line}: ${rule.what}`);
      }
    }
  }
  assert.deepEqual(offences, [], `every request must go through src/net/:\n${offences.join('\n')}`);
});

test('the scan catches what it forbids', () => {
  const bad = ["const r = await fetch(url);", "x = { fetch: cond ? guarded : fetch };", "globalThis.fetch(u)", "import { request } from 'undici';", "import http from 'node:http';", "import { request as r } from 'node:https';", "https.get(u)", "createRemoteJWKSet(new URL(u))"];
  for (const b of bad) assert.ok(RULES.some((r) => r.re.test(code(b))), b);
  const fine = ["ctx.fetch(url)", "fetch?: typeof fetch;", "fetch: ctx.fetch,", "import type { IncomingMessage } from 'node:http';", "import { createServer } from 'node:http';", "// fetch(url) in a comment", "const m = 'could not fetch the body';"];
  for (const f of fine) assert.ok(!RULES.some((r) => r.re.test(code(f))), f);
});

// SDKs that carry an HTTP client of their own must be handed ours. The AWS SDK (the S3 media
// store) is the one such SDK in src/: every S3Client is built with src/net's S3HttpHandler.
test('the S3 client is built on src/net (requestHandler: S3HttpHandler)', () => {
  const users = files(SRC).filter((f) => /new\s+\w*\.?S3Client\s*\(/.test(code(readFileSync(f, 'utf8'))));
  assert.ok(users.length > 0, 'the scan finds the S3 store');
  for (const f of users) assert.match(readFileSync(f, 'utf8'), /requestHandler:\s*new S3HttpHandler\(/, relative(ROOT, f));
});
