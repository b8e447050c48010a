/**
 * The one error registry. Domain code throws these; `api/plugins/error-handler.ts` is the only place
 * that turns them into HTTP responses. Each class has a stable `code` and an HTTP `status`.
 */

/** One Pydantic-v2-shaped validation issue, as FastAPI returns it inside `detail`. */
export interface ValidationIssue {
  type: string;
  loc: (string | number)[];
  msg: string;
  input?: unknown;
  ctx?: Record<string, unknown>;
}

export abstract class AppError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  headers?: Record<string, string>;
}

/** 422 with a list of issues, exactly like FastAPI's RequestValidationError. */
export class ValidationFailed extends AppError {
  readonly status = 422;
  readonly code = 'validation_failed';
  constructor(readonly issues: ValidationIssue[]) {
    super(`${issues.length} validation error(s)`);
  }
}

export class Unauthorized extends AppError {
  readonly status = 401;
  readonly code = 'unauthorized';
  headers = { 'www-authenticate': 'Bearer' };
  constructor(message = 'Not authenticated') {
    super(message);
  }
}

export class Forbidden extends AppError {
  readonly status = 403;
  readonly code = 'forbidden';
}

export class NotFound extends AppError {
  readonly status = 404;
  readonly code = 'not_found';
}

export class Conflict extends AppError {
  readonly status = 409;
  readonly code = 'conflict';
}

export class BadRequest extends AppError {
  readonly status = 400;
  readonly code = 'bad_request';
}

export class PayloadTooLarge extends AppError {
  readonly status = 413;
  readonly code = 'payload_too_large';
}

export class TooManyRequests extends AppError {
  readonly status = 429;
  readonly code = 'too_many_requests';
  constructor(message: string, retryAfterSeconds: number) {
    super(message);
    this.headers = { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) };
  }
}

/** The provider or agent upstream failed in a way the caller may retry (webhooks: provider retries). */
export class UpstreamUnavailable extends AppError {
  readonly status = 503;
  readonly code = 'upstream_unavailable';
}

/**
 * The database cannot be reached right now (restarting, connections cut, pool exhausted): nothing
 * was committed that the caller can rely on, and the same request may succeed shortly. Providers
 * retry a webhook answered 503; API clients should honour Retry-After. The error handler turns
 * connection-level database errors (store/errors.ts `isConnectionError`) into this.
 */
export class DatabaseUnavailable extends AppError {
  readonly status = 503;
  readonly code = 'database_unavailable';
  constructor(retryAfterSeconds = DATABASE_RETRY_AFTER_SECONDS) {
    super('The database is unavailable; retry later');
    this.headers = { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) };
  }
}

/** A restart of PostgreSQL or a re-established connection usually takes a few seconds. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** A single value_error issue at `loc`, for rules that are not about a field's type. */
export function valueError(loc: (string | number)[], message: string, input?: unknown): ValidationFailed {
  return new ValidationFailed([{ type: 'value_error', loc, msg: `Value error, ${message}`, input, ctx: { error: message } }]);
}

/**
 * An Idempotency-Key reused with different parameters: 422 (as Stripe answers), nothing is sent.
 * Shaped like every other 422 (a FastAPI issue list), at the header.
 */
export function idempotencyMismatch(message: string, key: string): ValidationFailed {
  return valueError(['header', 'idempotency-key'], message, key);
}
