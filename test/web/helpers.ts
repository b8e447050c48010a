/** Shared helpers of the web chat tests: an SSE reader and the Chromium launcher. */
import { existsSync } from 'node:fs';

export interface SseEvent {
  event: string;
  id?: string;
  data: any;
}

/** Reads a text/event-stream; `next(type)` waits for the next event of that type (others are skipped). */
export async function readSse(url: string, headers: Record<string, string> = {}): Promise<{ next(type: string, timeoutMs?: number): Promise<SseEvent>; close(): void }> {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  if (res.status !== 200 || !res.body) throw new Error(`stream answered ${res.status}: ${await res.text()}`);
  const queue: SseEvent[] = [];
  const waiters: (() => void)[] = [];
  let buf = '';
  void (async () => {
    const dec = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += dec.decode(chunk, { stream: true });
        let cut;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const f: Record<string, string> = {};
          for (const line of block.split('\n')) {
            const i = line.indexOf(':');
            if (i > 0) f[line.slice(0, i)] = line.slice(i + 1).replace(/^ /, '');
          }
          if (f.data === undefined) continue;
          queue.push({ event: f.event ?? 'message', id: f.id, data: JSON.parse(f.data) });
          waiters.splice(0).forEach((w) => w());
        }
      }
    } catch {
      /* aborted */
    }
  })();
  return {
    async next(type, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = queue.findIndex((e) => e.event === type);
        if (i >= 0) return queue.splice(0, i + 1)[i];
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no '${type}' event within ${timeoutMs} ms`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, left);
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
    },
    close() {
      abort.abort();
    },
  };
}

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = () => existsSync(CHROMIUM);

export const LAUNCH = {
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
};
