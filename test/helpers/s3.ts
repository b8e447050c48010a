/**
 * A real S3-compatible server (s3rver) on a loopback port, with one bucket, for the S3 blob
 * store tests: the AWS SDK talks HTTP to it exactly as it would to S3 or MinIO.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';

export interface LocalS3 {
  endpoint: string;
  bucket: string;
  /** SWITCHBOARD_MEDIA_STORE value + credentials env for a server using this bucket. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startLocalS3(bucket = 'switchboard-media'): Promise<LocalS3> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: bucket, configs: [] }] });
  const { port } = (await server.run()) as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    env: {
      SWITCHBOARD_MEDIA_STORE: `s3://${bucket}/media?endpoint=${encodeURIComponent(endpoint)}&region=us-east-1`,
      // s3rver's built-in account; it checks SigV4 signatures like S3 does.
      SWITCHBOARD_S3_ACCESS_KEY_ID: 'S3RVER',
      SWITCHBOARD_S3_SECRET_ACCESS_KEY: 'S3RVER',
    },
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
