/**
 * Checks a channel's `config.turns` when a channel is created or its config replaced, so a typo
 * ("bursts", "debounce_ms": "2s") is a 422 at its field instead of a channel that silently queues.
 * Issues read as Pydantic v2 writes them (the API's validation format); accepted values are
 * returned normalised (lax integers such as "2000" become numbers) so what is stored is what
 * turnsOf reads.
 *
 * Schema: `"queue" | "burst" | "supersede"`, or `{mode (required), debounce_ms?, max_wait_ms?}`
 * with integers 0 ≤ debounce_ms ≤ 60000 and 0 ≤ max_wait_ms ≤ 600000, max_wait_ms ≥ debounce_ms
 * (each defaulting as in TURNS_DEFAULTS); `null` or absent = queue. Unknown keys are ignored.
 */
import type { ValidationIssue } from '../errors.js';
import { TURNS_DEFAULTS, type TurnsMode } from './turns.js';

export const TURNS_MODES: readonly TurnsMode[] = ['queue', 'burst', 'supersede'];
export const TURNS_LIMITS = { debounceMsMax: 60_000, maxWaitMsMax: 600_000 } as const;

const EXPECTED = "'queue', 'burst' or 'supersede'";

type Loc = (string | number)[];

function literalIssue(loc: Loc, input: unknown): ValidationIssue {
  return { type: 'literal_error', loc, msg: `Input should be ${EXPECTED}`, input, ctx: { expected: EXPECTED } };
}

/** A Pydantic (lax) int in [0, le]; undefined with an issue pushed when it is not one. */
function intIn(v: unknown, le: number, loc: Loc, issues: ValidationIssue[]): number | undefined {
  let n: number;
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || !Number.isInteger(v)) {
      issues.push({ type: 'int_from_float', loc, msg: 'Input should be a valid integer, got a number with a fractional part', input: v });
      return undefined;
    }
    n = v;
  } else if (typeof v === 'string' && /^\s*[-+]?\d+\s*$/.test(v)) {
    n = Number(v.trim());
  } else {
    if (typeof v === 'string') issues.push({ type: 'int_parsing', loc, msg: 'Input should be a valid integer, unable to parse string as an integer', input: v });
    else issues.push({ type: 'int_type', loc, msg: 'Input should be a valid integer', input: v });
    return undefined;
  }
  if (n < 0) {
    issues.push({ type: 'greater_than_equal', loc, msg: 'Input should be greater than or equal to 0', input: v, ctx: { ge: 0 } });
    return undefined;
  }
  if (n > le) {
    issues.push({ type: 'less_than_equal', loc, msg: `Input should be less than or equal to ${le}`, input: v, ctx: { le } });
    return undefined;
  }
  return n;
}

/**
 * The config to store: `config` itself, or a copy whose `turns` is normalised. Problems are pushed
 * to `issues` at `["body", "config", "turns", ...]`.
 */
export function checkTurnsConfig(config: Record<string, unknown>, issues: ValidationIssue[]): Record<string, unknown> {
  if (!Object.prototype.hasOwnProperty.call(config, 'turns')) return config;
  const t = config.turns;
  const loc: Loc = ['body', 'config', 'turns'];
  if (t === null) return config;
  if (typeof t === 'string') {
    if (!TURNS_MODES.includes(t as TurnsMode)) issues.push(literalIssue(loc, t));
    return config;
  }
  if (typeof t !== 'object' || Array.isArray(t)) {
    const msg = `turns is a mode name (${EXPECTED}) or an object {"mode", "debounce_ms", "max_wait_ms"}`;
    issues.push({ type: 'value_error', loc, msg: `Value error, ${msg}`, input: t, ctx: { error: msg } });
    return config;
  }
  const o = t as Record<string, unknown>;
  const before = issues.length;
  if (o.mode === undefined) issues.push({ type: 'missing', loc: [...loc, 'mode'], msg: 'Field required', input: o });
  else if (typeof o.mode !== 'string' || !TURNS_MODES.includes(o.mode as TurnsMode)) issues.push(literalIssue([...loc, 'mode'], o.mode));
  const debounce = o.debounce_ms === undefined ? undefined : intIn(o.debounce_ms, TURNS_LIMITS.debounceMsMax, [...loc, 'debounce_ms'], issues);
  const maxWait = o.max_wait_ms === undefined ? undefined : intIn(o.max_wait_ms, TURNS_LIMITS.maxWaitMsMax, [...loc, 'max_wait_ms'], issues);
  if (issues.length > before) return config;
  const effectiveDebounce = debounce ?? TURNS_DEFAULTS.debounceMs;
  if (maxWait !== undefined && maxWait < effectiveDebounce) {
    const msg = `max_wait_ms (${maxWait}) must be at least debounce_ms (${effectiveDebounce})`;
    issues.push({ type: 'value_error', loc: [...loc, 'max_wait_ms'], msg: `Value error, ${msg}`, input: o.max_wait_ms, ctx: { error: msg } });
    return config;
  }
  const turns: Record<string, unknown> = { ...o };
  if (debounce !== undefined) turns.debounce_ms = debounce;
  if (maxWait !== undefined) turns.max_wait_ms = maxWait;
  return { ...config, turns };
}
