/** Media bytes as files under one directory (the default; a single node). */
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { checkKey, type BlobStore, type ByteRange } from './blob-store.js';

export class FsBlobStore implements BlobStore {
  readonly kind = 'fs' as const;

  constructor(readonly root: string) {}

  private path(key: string): string {
    checkKey(key);
    return join(this.root, key);
  }

  async put(key: string, body: Buffer): Promise<void> {
    const file = this.path(key);
    await mkdir(dirname(file), { recursive: true });
    // Written aside, then renamed: a reader never sees half a file, a crash leaves no bad blob.
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, body);
    await rename(tmp, file);
  }

  async get(key: string, range?: ByteRange): Promise<Readable | undefined> {
    const file = this.path(key);
    try {
      await stat(file);
    } catch {
      return undefined;
    }
    return createReadStream(file, range ? { start: range.start, end: range.end } : {});
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }
}
