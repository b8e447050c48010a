/** The one file of a multipart/form-data upload (already read, within the size cap). */
import busboy from 'busboy';
import { BadRequest } from '../errors.js';

export interface UploadedFile {
  bytes: Buffer;
  mimeType?: string;
  fileName?: string;
}

/** The part named `file` (or the only file part); other text fields are returned alongside. */
export function parseMultipart(body: Buffer, contentType: string, maxBytes: number): Promise<{ file: UploadedFile; fields: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: { 'content-type': contentType }, limits: { files: 1, fileSize: maxBytes + 1, fields: 20, fieldSize: 64 * 1024 } });
    } catch {
      return reject(new BadRequest('multipart/form-data needs a boundary'));
    }
    const fields: Record<string, string> = {};
    let file: UploadedFile | undefined;
    let tooMany = false;
    bb.on('file', (_name, stream, info) => {
      const parts: Buffer[] = [];
      stream.on('data', (c: Buffer) => parts.push(c));
      stream.on('end', () => {
        file = { bytes: Buffer.concat(parts), mimeType: info.mimeType, fileName: info.filename };
      });
    });
    bb.on('field', (name, value) => (fields[name] = value));
    bb.on('filesLimit', () => (tooMany = true));
    bb.on('error', () => reject(new BadRequest('The multipart/form-data body is malformed.')));
    bb.on('close', () => {
      if (tooMany) return reject(new BadRequest('Send one file per upload.'));
      if (!file) return reject(new BadRequest('The multipart/form-data body has no file part.'));
      resolve({ file, fields });
    });
    bb.end(body);
  });
}
