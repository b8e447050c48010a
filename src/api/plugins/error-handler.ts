/**
 * The one place errors become HTTP responses. Typed AppErrors map to their status; Fastify's own
 * errors (oversized body, bad content) map to FastAPI-shaped bodies; a database that cannot be
 * reached is a 503 with Retry-After (the request may succeed when retried); anything else is a 500
 * whose body says nothing about internals (the details go to the log).
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, DatabaseUnavailable, ValidationFailed, type ValidationIssue } from '../../errors.js';
import { isConnectionError } from '../../store/errors.js';

const FASTIFY_STATUS_DETAIL: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'Request body is too large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Unsupported media type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'Request body size did not match Content-Length',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'Request body is empty',
};

/**
 * Field names whose values are secrets: a 422 about one says what is wrong, never echoes the value
 * (Pydantic's `input`), so a secret typed into the wrong place does not come back in the response
 * (or a proxy's log of it). Matched anywhere in `loc`, so `secrets.*` and nested keys count.
 */
const SECRET_FIELD = /^(?:secrets|webhook_secret|signing_secret|secret|api_key|apikey|bot_token|auth_token|access_token|app_secret|refresh_token|client_secret|token|password|key|private_key|visitor_signature|verify_token|authorization)$/i;

export function withoutSecretInput(issue: ValidationIssue): ValidationIssue {
  if (!issue.loc.some((part) => typeof part === 'string' && SECRET_FIELD.test(part))) return issue;
  const { input: _input, ...rest } = issue;
  return rest;
}

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((caught: FastifyError | AppError, req, reply) => {
    let err = caught;
    if (!(err instanceof AppError) && isConnectionError(err)) {
      // Expected during a database restart or a cut connection: one line, no stack per request.
      req.log.warn({ db_error: (err as { code?: string }).code ?? err.message }, 'database unavailable');
      err = new DatabaseUnavailable();
    }
    if (err instanceof ValidationFailed) {
      return reply.code(422).type('application/json').send({ detail: err.issues.map(withoutSecretInput) });
    }
    if (err instanceof AppError) {
      if (err.headers) reply.headers(err.headers);
      return reply.code(err.status).type('application/json').send({ detail: err.message });
    }
    const fe = err as FastifyError;
    if (fe.code && FASTIFY_STATUS_DETAIL[fe.code]) {
      return reply.code(fe.statusCode ?? 400).type('application/json').send({ detail: FASTIFY_STATUS_DETAIL[fe.code] });
    }
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.code(fe.statusCode).type('application/json').send({ detail: 'Bad request' });
    }
    req.log.error({ err }, 'unhandled error');
    return reply.code(500).type('application/json').send({ detail: 'Internal Server Error' });
  });

  app.setNotFoundHandler((_req, reply) => {
    reply.code(404).type('application/json').send({ detail: 'Not Found' });
  });
}
