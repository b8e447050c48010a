/**
 * Media bytes in an S3-compatible bucket (AWS S3, MinIO, R2, Ceph...). The endpoint is the
 * operator's configuration, not tenant input; requests go through src/net/s3-http.ts. The AWS SDK is loaded on first use only: it is
 * large, and a node on the filesystem store should not pay for it at start-up.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { checkKey, type BlobStore, type ByteRange } from './blob-store.js';
import { S3HttpHandler } from '../net/s3-http.js';

export interface S3Options {
  bucket: string;
  prefix: string;
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

type Sdk = typeof import('@aws-sdk/client-s3');

export class S3BlobStore implements BlobStore {
  readonly kind = 's3' as const;
  private sdk?: Promise<{ sdk: Sdk; client: S3Client }>;
  private client?: S3Client;

  constructor(readonly opts: S3Options) {}

  private connect(): Promise<{ sdk: Sdk; client: S3Client }> {
    this.sdk ??= import('@aws-sdk/client-s3').then((sdk) => {
      this.client = new sdk.S3Client({
        region: this.opts.region,
        ...(this.opts.endpoint ? { endpoint: this.opts.endpoint } : {}),
        forcePathStyle: this.opts.forcePathStyle,
        ...(this.opts.credentials ? { credentials: this.opts.credentials } : {}),
        // Checksums on every request are newer than many S3-compatible servers; only when required.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        // Its requests go through src/net like every other request the server makes.
        requestHandler: new S3HttpHandler() as never,
      });
      return { sdk, client: this.client };
    });
    return this.sdk;
  }

  private key(key: string): string {
    checkKey(key);
    return this.opts.prefix ? `${this.opts.prefix}/${key}` : key;
  }

  async put(key: string, body: Buffer, contentType: string): Promise<void> {
    const k = this.key(key);
    const { sdk, client } = await this.connect();
    await client.send(new sdk.PutObjectCommand({ Bucket: this.opts.bucket, Key: k, Body: body, ContentType: contentType, ContentLength: body.length }));
  }

  async get(key: string, range?: ByteRange): Promise<Readable | undefined> {
    const k = this.key(key);
    const { sdk, client } = await this.connect();
    try {
      const r = await client.send(new sdk.GetObjectCommand({ Bucket: this.opts.bucket, Key: k, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }));
      return r.Body as Readable;
    } catch (err) {
      if (err instanceof sdk.NoSuchKey || (err instanceof sdk.S3ServiceException && err.$metadata.httpStatusCode === 404)) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    const k = this.key(key);
    const { sdk, client } = await this.connect();
    await client.send(new sdk.DeleteObjectCommand({ Bucket: this.opts.bucket, Key: k }));
  }

  close(): void {
    this.client?.destroy();
  }
}
