/**
 * One public naming: every key of a public payload (event `data`, message `content`, media items)
 * is snake_case. The normalised model (core/events.ts) is camelCase TypeScript; this turns it into
 * the public form at the boundary. A `raw` value is the provider's own payload and is kept verbatim.
 */
const snake = (k: string): string => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2').toLowerCase();

export function toPublic<T extends Record<string, unknown>>(v: T): Record<string, unknown> {
  return convert(v) as Record<string, unknown>;
}

function convert(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(convert);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[snake(k)] = k === 'raw' ? x : convert(x);
  return out;
}
