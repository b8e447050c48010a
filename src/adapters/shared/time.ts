/** ISO time from a provider's epoch seconds (number or numeric string), else the receipt time. */
export function isoFromSeconds(v: unknown, now: () => number): string {
  const n = typeof v === 'string' && /^\d{1,12}$/.test(v) ? Number(v) : v;
  if (typeof n === 'number' && Number.isFinite(n) && n > 0 && n < 1e11) return new Date(n * 1000).toISOString();
  return new Date(now()).toISOString();
}

/** ISO time from epoch milliseconds, else the receipt time. */
export function isoFromMillis(v: unknown, now: () => number): string {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0 && v < 1e14) return new Date(v).toISOString();
  return new Date(now()).toISOString();
}

/** ISO time from a date string (RFC 3339 or RFC 2822), else the receipt time. */
export function isoFromDateString(v: unknown, now: () => number): string {
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  return new Date(Number.isFinite(t) ? t : now()).toISOString();
}
