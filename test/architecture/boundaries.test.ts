/**
 * Layering rules as a test (STYLE.md 2, 10, 12, 13): adapters are framework-free and know nothing of
 * core, api or store (they get everything in a context); core never imports the HTTP layer; core,
 * api and voice never compare provider names (they read the adapter's facts instead); SQL lives in
 * the repositories; the object graph is built once, in core/services.ts, from constructor
 * arguments (no setters afterwards, no module-level maps from the services to their parts).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { knownProviders } from '../../src/adapters/registry.js';

const SRC = resolve('src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Every module a file imports (static and dynamic), as a path under src/ or a package name. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]);
  return specs.map((s) => (s.startsWith('.') ? relative(SRC, resolve(dirname(file), s)).replace(/\\/g, '/') : s));
}

function violations(dir: string, forbidden: (spec: string) => boolean): string[] {
  return files(join(SRC, dir)).flatMap((f) => importsOf(f).filter(forbidden).map((s) => `${relative(SRC, f)} imports ${s}`));
}

describe('layer boundaries', () => {
  test('adapters never import core, api, store, queue, config or Fastify', () => {
    const bad = violations('adapters', (s) => /^(core|api|store|queue|voice|media|mcp|web)\//.test(s) || s === 'config.js' || s === 'fastify' || s.startsWith('fastify/') || s.startsWith('@fastify/'));
    assert.deepEqual(bad, []);
  });

  test('contract.ts imports only adapter-local types', () => {
    const bad = importsOf(join(SRC, 'adapters/contract.ts')).filter((s) => !/^adapters\/(events|channel-types|shared\/identity|shared\/media)\.js$/.test(s));
    assert.deepEqual(bad, []);
  });

  test('core never imports the HTTP layer (nor do voice, media, store and queue, which sit below it)', () => {
    for (const dir of ['core', 'voice', 'media', 'store', 'queue']) {
      assert.deepEqual(violations(dir, (s) => s.startsWith('api/') || s.startsWith('mcp/') || s === 'fastify' || s.startsWith('@fastify/')), [], dir);
    }
  });

  test('core, api and voice never compare a provider name', () => {
    const names = knownProviders().join('|');
    const compare = new RegExp(`(?:===|!==)\\s*'(?:${names})'|'(?:${names})'\\s*(?:===|!==)`);
    const bad: string[] = [];
    for (const dir of ['core', 'api', 'voice', 'media', 'mcp']) {
      for (const f of files(join(SRC, dir))) {
        readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
          // Channel types share some names with providers ('telegram'): those comparisons are fine.
          const withoutTypes = line.replace(/(?:channel_type|channelType)\s*(?:===|!==)\s*'[a-z_]+'/g, '');
          if (compare.test(withoutTypes)) bad.push(`${relative(SRC, f)}:${i + 1}: ${line.trim()}`);
        });
      }
    }
    assert.deepEqual(bad, []);
  });

  test('SQL stays in the repositories: no Kysely query outside src/store and src/queue', () => {
    // src/queue/jobs.ts is the job queue's repository (the queue owns its table); everything
    // else asks a repository method (store/repos/).
    // The database handle (`store.db`, a repository's `db`) stays inside too: a write outside any
    // transaction is the repository's `…Alone` method.
    const query = /\.(?:selectFrom|insertInto|updateTable|deleteFrom|replaceInto|mergeInto)\(|\bsql`|\bsql\.(?:raw|ref|join|lit)\(|\.transaction\(\)|\.executeQuery\(|\.db\b(?!')/;
    const bad: string[] = [];
    for (const f of files(SRC)) {
      const rel = relative(SRC, f).replace(/\\/g, '/');
      if (/^(store|queue)\//.test(rel)) continue;
      readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
        if (query.test(line)) bad.push(`${rel}:${i + 1}: ${line.trim()}`);
      });
      // Types (Kysely, Transaction) may pass through; query building may not.
      for (const m of readFileSync(f, 'utf8').matchAll(/import\s+(?!type\b)([^;]*?)\s+from\s+'kysely'/g)) bad.push(`${rel} imports values from kysely: ${m[1]}`);
    }
    assert.deepEqual(bad, []);
  });

  test('the composition root sets no property after construction', () => {
    // `x.y = ...` in services.ts is a setter in disguise: pass it to x's constructor instead.
    const text = readFileSync(join(SRC, 'core/services.ts'), 'utf8');
    const bad = text.split('\n').flatMap((line, i) => (/^\s*[A-Za-z_$][\w$]*(?:\.[\w$]+|\[[^\]]+\])+\s*(?:\?\?=|\|\|=|=(?!=))/.test(line) ? [`core/services.ts:${i + 1}: ${line.trim()}`] : []));
    assert.deepEqual(bad, []);
  });

  test('nothing attaches parts to the services or keeps a module-level map of them', () => {
    const iface = /export interface Services \{([\s\S]*?)\n\}/.exec(readFileSync(join(SRC, 'core/services.ts'), 'utf8'))?.[1] ?? '';
    const parts = [...iface.matchAll(/^\s{2}(\w+)\??:/gm)].map((m) => m[1]);
    assert.ok(parts.includes('channels') && parts.includes('webchat'), 'the Services interface is read');
    const attach = new RegExp(`\\b(?:s|services|svc|x)\\)?\\.(?:${parts.join('|')})\\s*(?:\\?\\?=|\\|\\|=|=(?!=))`);
    const bad: string[] = [];
    for (const f of files(SRC)) {
      const rel = relative(SRC, f).replace(/\\/g, '/');
      readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
        // `s.widgets = hub`, `(services as X).webchat ??= ...`, `as Services & {...}` (a bolt-on).
        if (attach.test(line) || /as Services\s*&/.test(line) || /new (?:Weak)?Map<\s*Services\b/.test(line)) bad.push(`${rel}:${i + 1}: ${line.trim()}`);
      });
    }
    assert.deepEqual(bad, []);
  });

  test('routes build no services: api/ constructs no class of core, voice, media, store or queue', () => {
    // Errors are thrown, not wired; a Retell session is one per socket, not a service.
    const allowed = new Set(['RetellSession']);
    const classes = new Set<string>();
    for (const dir of ['core', 'voice', 'media', 'store', 'queue']) {
      for (const f of files(join(SRC, dir))) {
        for (const m of readFileSync(f, 'utf8').matchAll(/export class (\w+)(?:\s+extends\s+(\w+))?/g)) {
          if (!/Error$|^(?:Conflict|NotFound|Forbidden|BadRequest)$/.test(m[2] ?? '') && !/Error$|Refused$|Timeout$|Superseded$/.test(m[1]) && !allowed.has(m[1])) classes.add(m[1]);
        }
      }
    }
    const bad: string[] = [];
    for (const f of files(join(SRC, 'api'))) {
      readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
        for (const m of line.matchAll(/\bnew (\w+)\(/g)) if (classes.has(m[1])) bad.push(`${relative(SRC, f)}:${i + 1}: new ${m[1]}(`);
      });
    }
    assert.deepEqual(bad, []);
  });

  test('one of each: agent client, Retry-After parser, SSE writer, message row', () => {
    // Each rule names the one file allowed to do the thing; anything else doing it is a second copy.
    const rules: { what: string; pattern: RegExp; home: string[] }[] = [
      { what: 'signs a request to an agent', pattern: /\bstandardWebhookHeaders\(/, home: ['core/agent-client.ts', 'crypto/standard-webhooks.ts'] },
      { what: 'parses a Retry-After header', pattern: /function \w*retry[-_]?after\w*\(/i, home: ['adapters/shared/provider-error.ts'] },
      { what: 'writes server-sent events', pattern: /content-type['"]?\s*:\s*['"]text\/event-stream|\.write\(`(?:id|event|data): /i, home: ['api/sse.ts'] },
      { what: 'builds a message row', pattern: /:\s*(?:NewMessageRow|MessageInsert)\s*=\s*\{|insertMessage\([^,]+,\s*\{/, home: ['core/message-row.ts'] },
    ];
    const bad: string[] = [];
    for (const f of files(SRC)) {
      const rel = relative(SRC, f).replace(/\\/g, '/');
      if (/^(store|queue|adapters\/(?!shared\/provider-error))/.test(rel)) continue;
      const lines = readFileSync(f, 'utf8').split('\n');
      for (const r of rules) {
        if (r.home.includes(rel)) continue;
        lines.forEach((line, i) => {
          if (r.pattern.test(line)) bad.push(`${rel}:${i + 1} ${r.what}: ${line.trim()}`);
        });
      }
    }
    assert.deepEqual(bad, []);
  });
});
