/**
 * The media API on every store and blob store: uploads (raw and multipart), signed links
 * (bytes, headers, ranges, refusals), the API-key routes with tenant isolation, the upload cap
 * answered before the body is read, and retention.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { storeKinds } from '../helpers/stores.js';
import { BLOB_KINDS, fetchBytes, PDF, PNG, sha, startMediaServer, upload, type MediaServer } from './helpers.js';

for (const store of storeKinds()) {
  for (const blob of BLOB_KINDS) {
    describe(`media API (${store}, ${blob})`, () => {
      let s: MediaServer;
      let inst: string;
      let other: string;
      let otherKey: string;
      before(async () => {
        s = await startMediaServer(store, blob, { env: { SWITCHBOARD_MEDIA_MAX_BYTES: '100000' } });
        inst = (await s.api('POST', '/v1/instances', { name: 'a' })).body.id;
        other = (await s.api('POST', '/v1/instances', { name: 'b' })).body.id;
        otherKey = (await s.api('POST', '/v1/api-keys', { name: 'b', instance_ids: [other] })).body.key;
      });
      after(async () => s.close());

      test('a raw upload answers 201 with the item, and its signed link serves the same bytes', async () => {
        const r = await upload(s, inst, PNG, 'image/png', 'dot.png');
        assert.equal(r.status, 201);
        assert.deepEqual({ ...r.body, id: undefined, url: undefined, url_expires_at: undefined }, { id: undefined, kind: 'image', mime_type: 'image/png', size: PNG.length, sha256: sha(PNG), file_name: 'dot.png', url: undefined, url_expires_at: undefined });
        assert.match(r.body.url, new RegExp(`^${s.url}/v1/media/${r.body.id}\\?expires=\\d+&signature=[0-9a-f]{64}$`));
        const got = await fetchBytes(r.body.url);
        assert.equal(got.status, 200);
        assert.equal(sha(got.body), sha(PNG));
        assert.equal(got.headers.get('content-type'), 'image/png');
        assert.equal(got.headers.get('content-length'), String(PNG.length));
        assert.match(got.headers.get('cache-control') ?? '', /^private, max-age=\d+$/);
        assert.equal(got.headers.get('accept-ranges'), 'bytes');
      });

      test('range requests: a slice (206), a suffix, and an unsatisfiable range (416)', async () => {
        const { body } = await upload(s, inst, PDF, 'application/pdf', 'doc.pdf');
        const part = await fetchBytes(body.url, { range: 'bytes=5-14' });
        assert.equal(part.status, 206);
        assert.deepEqual(part.body, PDF.subarray(5, 15));
        assert.equal(part.headers.get('content-range'), `bytes 5-14/${PDF.length}`);
        assert.equal(part.headers.get('content-length'), '10');
        const tail = await fetchBytes(body.url, { range: 'bytes=-6' });
        assert.deepEqual(tail.body, PDF.subarray(PDF.length - 6));
        const bad = await fetchBytes(body.url, { range: `bytes=${PDF.length}-` });
        assert.equal(bad.status, 416);
        assert.equal(bad.headers.get('content-range'), `bytes */${PDF.length}`);
      });

      test('a multipart/form-data upload takes the file part, its type and name', async () => {
        const form = new FormData();
        form.append('file', new Blob([PDF], { type: 'application/pdf' }), 'report.pdf');
        const r = await fetch(`${s.url}/v1/instances/${inst}/media`, { method: 'POST', headers: { 'x-api-key': s.adminKey }, body: form });
        assert.equal(r.status, 201);
        const item = (await r.json()) as any;
        assert.deepEqual([item.kind, item.mime_type, item.size, item.sha256, item.file_name], ['document', 'application/pdf', PDF.length, sha(PDF), 'report.pdf']);
        const got = await fetchBytes(item.url);
        assert.equal(sha(got.body), sha(PDF));
        assert.match(got.headers.get('content-disposition') ?? '', /^inline; filename\*=UTF-8''report\.pdf$/);
      });

      test('links refuse a wrong signature, another id, and an expired link', async () => {
        const { body } = await upload(s, inst, PNG, 'image/png');
        const u = new URL(body.url);
        const sig = u.searchParams.get('signature')!;
        const flipped = new URL(u);
        flipped.searchParams.set('signature', (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1));
        assert.equal((await fetchBytes(flipped.href)).status, 403);
        const later = new URL(u);
        later.searchParams.set('expires', String(Number(u.searchParams.get('expires')) + 1));
        assert.equal((await fetchBytes(later.href)).status, 403);
        const noSig = new URL(u);
        noSig.searchParams.delete('signature');
        assert.equal((await fetchBytes(noSig.href)).status, 403);
        const { body: second } = await upload(s, inst, PDF, 'application/pdf');
        assert.equal((await fetchBytes(`${s.url}/v1/media/${second.id}${u.search}`)).status, 403);
        const expired = s.services.media.links.url(body.id, 60, Date.now() - 3600_000).url;
        const r = await fetchBytes(expired);
        assert.equal(r.status, 403);
        assert.match(JSON.parse(r.body.toString()).detail, /expired/);
      });

      test('API keys: the item with a fresh link, renewable lifetime, the bytes; another tenant gets 404', async () => {
        const { body } = await upload(s, inst, PNG, 'image/png');
        const got = await s.api('GET', `/v1/instances/${inst}/media/${body.id}?expires_in=120`);
        assert.equal(got.status, 200);
        assert.equal(got.body.status, 'ready');
        assert.ok(Date.parse(got.body.url_expires_at) - Date.now() <= 120_000);
        assert.equal(sha((await fetchBytes(got.body.url)).body), sha(PNG));
        const content = await fetchBytes(`${s.url}/v1/instances/${inst}/media/${body.id}/content`, { 'x-api-key': s.adminKey });
        assert.equal(content.status, 200);
        assert.equal(sha(content.body), sha(PNG));
        // Another tenant's key: the same 404 as for an id that does not exist, for the item and the bytes.
        assert.equal((await s.api('GET', `/v1/instances/${inst}/media/${body.id}`, undefined, otherKey)).status, 404);
        assert.equal((await s.api('GET', `/v1/instances/${other}/media/${body.id}`, undefined, otherKey)).status, 404);
        assert.equal((await fetchBytes(`${s.url}/v1/instances/${other}/media/${body.id}/content`, { 'x-api-key': otherKey })).status, 404);
        assert.equal((await upload(s, inst, PNG, 'image/png', undefined, otherKey)).status, 404);
        assert.equal((await s.api('GET', `/v1/instances/${inst}/media/${body.id}`, undefined, null)).status, 401);
      });

      test('an upload past the cap is answered 413 before the rest of the body is read', async () => {
        const port = new URL(s.url).port;
        const status = await new Promise<number>((resolve, reject) => {
          const req = request({ host: '127.0.0.1', port, method: 'POST', path: `/v1/instances/${inst}/media`, headers: { 'x-api-key': s.adminKey, 'content-type': 'image/png', 'content-length': String(50 * 1024 * 1024) } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
            req.destroy();
          });
          req.on('error', reject);
          req.write(Buffer.alloc(1024)); // 1 KB of a declared 50 MB, then nothing
        });
        assert.equal(status, 413);
        assert.equal((await upload(s, inst, Buffer.alloc(100_001, 1), 'application/octet-stream')).status, 413);
        assert.equal((await upload(s, inst, Buffer.alloc(0), 'application/octet-stream')).status, 422);
      });

      test('retention: past the configured days the item and its bytes are deleted', async () => {
        const { body } = await upload(s, inst, PNG, 'image/png');
        const row = await s.services.media.repo.get(body.id);
        assert.ok(row?.blob_key);
        await s.services.media.cleanup(Date.now() + 31 * 86_400_000);
        assert.equal(await s.services.media.repo.get(body.id), undefined);
        assert.equal(await s.services.media.blobs.get(row.blob_key), undefined);
        assert.equal((await fetchBytes(body.url)).status, 404);
      });
    });
  }
}
