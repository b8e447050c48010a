/**
 * Layering rules as a test (STYLE.md 2, 10, 12): adapters are framework-free and know nothing of
 * core, api or store (they get everything in a context); core never imports the HTTP layer; core,
 * api and voice never compare provider names (they read the adapter's facts instead).
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

  test('core never imports the HTTP layer', () => {
    assert.deepEqual(violations('core', (s) => s.startsWith('api/') || s === 'fastify' || s.startsWith('@fastify/')), []);
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
});
