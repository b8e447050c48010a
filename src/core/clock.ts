/** ISO-8601 UTC timestamps, the one format stored and returned everywhere. */
export function nowIso(): string {
  return new Date().toISOString();
}
