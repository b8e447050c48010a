/** Media test setup: a server per store kind and blob store kind (files, or a local S3 server). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { startServer, type StartOptions, type TestServer } from '../helpers/server.js';
import type { StoreKind } from '../helpers/stores.js';
import { startLocalS3 } from '../helpers/s3.js';

export type BlobKind = 'fs' | 's3';
export const BLOB_KINDS: BlobKind[] = ['fs', 's3'];

export interface MediaServer extends TestServer {
  blobKind: BlobKind;
}

export async function startMediaServer(store: StoreKind, blob: BlobKind, opts: StartOptions = {}): Promise<MediaServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-media-'));
  const s3 = blob === 's3' ? await startLocalS3() : undefined;
  const env = { SWITCHBOARD_DATA_DIR: dir, ...(s3?.env ?? {}), ...opts.env };
  const server = await startServer(store, { ...opts, env });
  const close = server.close.bind(server);
  return Object.assign(server, {
    blobKind: blob,
    async close() {
      await close();
      const b = server.services.media.blobs as { close?: () => void };
      b.close?.();
      await s3?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

export const sha = (b: Buffer | Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A small valid PNG (1x1, red) and a minimal PDF, as an agent would upload them. */
export const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');
export const PDF = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

export async function fetchBytes(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const r = await fetch(url, { headers });
  return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
}

export async function upload(s: TestServer, instanceId: string, bytes: Buffer, type: string, fileName?: string, key?: string): Promise<{ status: number; body: any }> {
  const q = fileName ? `?file_name=${encodeURIComponent(fileName)}` : '';
  const r = await fetch(`${s.url}/v1/instances/${instanceId}/media${q}`, { method: 'POST', headers: { 'x-api-key': key ?? s.adminKey, 'content-type': type }, body: new Uint8Array(bytes) });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : undefined };
}
