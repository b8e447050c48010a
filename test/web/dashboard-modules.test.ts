/**
 * The dashboard's source rules: ES modules, each type-checked by tsc from its JSDoc (// @ts-check,
 * src/web/tsconfig.json), and no provider list of its own (provider names come from GET /v1/providers).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIR = join(ROOT, 'src/web/dashboard');
const files = readdirSync(DIR, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));

test('the dashboard is split into modules, each with // @ts-check', () => {
  assert.ok(files.length >= 10, files.join(', '));
  for (const f of files) assert.match(readFileSync(join(DIR, f), 'utf8'), /^\/\/ @ts-check\n/, f);
  for (const dir of ['lib', 'views']) assert.ok(files.some((f) => f.startsWith(`${dir}/`)), dir);
  const app = readFileSync(join(DIR, 'app.js'), 'utf8');
  assert.ok(app.split('\n').length < 300, 'app.js is the shell only');
});

test('tsc type-checks the browser project without errors', () => {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', join(ROOT, 'src/web')], { stdio: 'pipe' });
});

test('no provider is named in the dashboard: it reads GET /v1/providers', () => {
  const providers = readdirSync(join(ROOT, 'src/adapters'), { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'shared').map((d) => d.name);
  assert.ok(providers.length >= 6, providers.join(', '));
  for (const f of files) {
    const src = readFileSync(join(DIR, f), 'utf8');
    for (const p of providers) {
      // "web" is also an ordinary word: only its use as a string literal counts.
      const named = p === 'web' ? /['"`]web['"`]/ : new RegExp(`\\b${p}\\b`, 'i');
      assert.ok(!named.test(src), `${f} names the provider ${p}`);
    }
  }
  assert.match(readFileSync(join(DIR, 'lib/providers.js'), 'utf8'), /\/v1\/providers/);
});
