/**
 * Where media bytes live. One small interface, two implementations: the filesystem under the
 * data directory (the default; one node only) and any S3-compatible store (several nodes must
 * share one, since any node may serve a link or run a capture job).
 *
 * SWITCHBOARD_MEDIA_STORE chooses: unset or `file:///path` -> filesystem; `s3://bucket/prefix?
 * endpoint=...&region=...&path_style=true` -> S3. Keys are ours (`<instance>/<media id>`), never
 * user input, and are checked all the same so no key can step out of the store.
 */
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import { FsBlobStore } from './fs-store.js';
import { S3BlobStore, type S3Options } from './s3-store.js';

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export interface BlobStore {
  readonly kind: 'fs' | 's3';
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /** The bytes (or one range of them) as a stream; undefined when there is no such blob. */
  get(key: string, range?: ByteRange): Promise<Readable | undefined>;
  /** Deleting what is not there is not an error. */
  delete(key: string): Promise<void>;
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

export function checkKey(key: string): void {
  if (!KEY.test(key) || key.includes('..')) throw new Error(`invalid blob key: ${key}`);
}

export interface BlobStoreEnv {
  /** SWITCHBOARD_MEDIA_STORE */
  spec?: string;
  dataDir: string;
  /** SWITCHBOARD_S3_ACCESS_KEY_ID / SWITCHBOARD_S3_SECRET_ACCESS_KEY; else the AWS SDK's own chain. */
  accessKeyId?: string;
  secretAccessKey?: string;
}

/** Parses the store setting; throws with a readable message on a bad one (at start-up). */
export function openBlobStore(env: BlobStoreEnv): BlobStore {
  const spec = env.spec?.trim();
  if (!spec) return new FsBlobStore(join(env.dataDir, 'media'));
  let u: URL;
  try {
    u = new URL(spec);
  } catch {
    throw new Error(`SWITCHBOARD_MEDIA_STORE must be file:///path or s3://bucket?endpoint=...&region=..., got ${spec}`);
  }
  if (u.protocol === 'file:') return new FsBlobStore(decodeURIComponent(u.pathname));
  if (u.protocol !== 's3:') throw new Error(`SWITCHBOARD_MEDIA_STORE: unsupported scheme ${u.protocol} (file: or s3:)`);
  if (!u.hostname) throw new Error('SWITCHBOARD_MEDIA_STORE: s3:// needs a bucket name, e.g. s3://switchboard-media');
  const q = u.searchParams;
  const endpoint = q.get('endpoint') ?? undefined;
  const opts: S3Options = {
    bucket: u.hostname,
    prefix: u.pathname.replace(/^\/+|\/+$/g, ''),
    region: q.get('region') ?? 'us-east-1',
    endpoint,
    // Self-hosted stores (MinIO, s3rver, Ceph) want path-style URLs; AWS takes either.
    forcePathStyle: q.has('path_style') ? q.get('path_style') !== 'false' : endpoint !== undefined,
    ...(env.accessKeyId && env.secretAccessKey ? { credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey } } : {}),
  };
  return new S3BlobStore(opts);
}
