/**
 * A multipart/form-data reader for the fakes (providers' upload endpoints), written on its own
 * so the fakes check what src/ sends without sharing its code: each part's name, file name,
 * type and exact bytes.
 */
export interface FormPart {
  name: string;
  fileName?: string;
  contentType?: string;
  bytes: Buffer;
}

/** Parts of a multipart body, or undefined when it is not well-formed multipart. */
export function parseMultipart(contentType: string | undefined, raw: Buffer): FormPart[] | undefined {
  const m = /^multipart\/form-data;.*boundary="?([^";]+)"?/i.exec(contentType ?? '');
  if (!m) return undefined;
  const delim = Buffer.from(`--${m[1]}`);
  const parts: FormPart[] = [];
  let at = raw.indexOf(delim);
  if (at < 0) return undefined;
  for (;;) {
    at += delim.length;
    if (raw.subarray(at, at + 2).toString() === '--') return parts;
    if (raw.subarray(at, at + 2).toString() !== '\r\n') return undefined;
    at += 2;
    const headEnd = raw.indexOf('\r\n\r\n', at);
    if (headEnd < 0) return undefined;
    const head = raw.subarray(at, headEnd).toString('utf8');
    const next = raw.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), headEnd + 4);
    if (next < 0) return undefined;
    const disp = /content-disposition:\s*form-data;([^\r\n]*)/i.exec(head)?.[1] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disp)?.[1];
    if (name === undefined) return undefined;
    const fileName = /\bfilename="([^"]*)"/i.exec(disp)?.[1];
    const type = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1]?.trim();
    parts.push({ name, ...(fileName !== undefined ? { fileName } : {}), ...(type ? { contentType: type } : {}), bytes: Buffer.from(raw.subarray(headEnd + 4, next)) });
    at = next + 2;
  }
}

/** Text fields of the parts (files excluded), as the fakes' `fields` objects. */
export function formFields(parts: FormPart[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of parts) if (p.fileName === undefined) out[p.name] = p.bytes.toString('utf8');
  return out;
}
