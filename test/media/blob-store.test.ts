import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { openBlobStore, type BlobStore } from '../../src/media/blob-store.js';
import { S3BlobStore } from '../../src/media/s3-store.js';
import { startLocalS3, type LocalS3 } from '../helpers/s3.js';

async function bytes(r: Readable | undefined): Promise<Buffer | undefined> {
  if (!r) return undefined;
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(parts);
}

function contract(name: string, open: () => Promise<{ store: BlobStore; done(): Promise<void> }>) {
  describe(`blob store: ${name}`, () => {
    let store: BlobStore;
    let done: () => Promise<void>;
    before(async () => ({ store, done } = await open()));
    after(async () => done());

    test('put, get whole and by range, delete', async () => {
      const body = randomBytes(70_000);
      await store.put('inst-1/m-1', body, 'image/png');
      assert.deepEqual(await bytes(await store.get('inst-1/m-1')), body);
      assert.deepEqual(await bytes(await store.get('inst-1/m-1', { start: 10, end: 19 })), body.subarray(10, 20));
      assert.deepEqual(await bytes(await store.get('inst-1/m-1', { start: 69_990, end: 69_999 })), body.subarray(69_990));
      await store.put('inst-1/m-1', Buffer.from('replaced'), 'text/plain');
      assert.equal((await bytes(await store.get('inst-1/m-1')))?.toString(), 'replaced');
      await store.delete('inst-1/m-1');
      assert.equal(await store.get('inst-1/m-1'), undefined);
      await store.delete('inst-1/m-1'); // deleting what is gone is fine
    });

    test('a missing key is undefined, a key that could leave the store is refused', async () => {
      assert.equal(await store.get('inst-1/never'), undefined);
      await assert.rejects(store.put('../escape', Buffer.from('x'), 'text/plain'), /invalid blob key/);
      await assert.rejects(store.get('a/../../b'), /invalid blob key/);
    });
  });
}

contract('filesystem (default, under the data dir)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-blobs-'));
  const store = openBlobStore({ dataDir: dir });
  assert.equal(store.kind, 'fs');
  return { store, done: async () => rmSync(dir, { recursive: true, force: true }) };
});

contract('S3 (a local s3rver, through @aws-sdk/client-s3)', async () => {
  const s3: LocalS3 = await startLocalS3();
  const store = openBlobStore({ dataDir: '/nonexistent', spec: s3.env.SWITCHBOARD_MEDIA_STORE, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
  assert.equal(store.kind, 's3');
  assert.equal((store as S3BlobStore).opts.prefix, 'media');
  return {
    store,
    done: async () => {
      (store as S3BlobStore).close();
      await s3.close();
    },
  };
});

test('SWITCHBOARD_MEDIA_STORE parsing', () => {
  const s = openBlobStore({ dataDir: '/d', spec: 's3://bkt?region=eu-west-1' }) as S3BlobStore;
  assert.deepEqual([s.opts.bucket, s.opts.prefix, s.opts.region, s.opts.forcePathStyle, s.opts.endpoint], ['bkt', '', 'eu-west-1', false, undefined]);
  s.close();
  assert.throws(() => openBlobStore({ dataDir: '/d', spec: 'ftp://x' }), /unsupported scheme/);
  assert.throws(() => openBlobStore({ dataDir: '/d', spec: 'not a url' }), /must be file/);
  assert.equal(openBlobStore({ dataDir: '/d', spec: 'file:///var/media' }).kind, 'fs');
});
