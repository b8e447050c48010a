/**
 * The one place errors become HTTP responses. Typed AppErrors map to their status; Fastify's own
 * errors (oversized body, bad content) map to FastAPI-shaped bodies; anything else is a 500 whose
 * body says nothing about internals (the details go to the log).
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, ValidationFailed } from '../../errors.js';

const FASTIFY_STATUS_DETAIL: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'Request body is too large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Unsupported media type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'Request body size did not match Content-Length',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'Request body is empty',
};

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    if (err instanceof ValidationFailed) {
      return reply.code(422).type('application/json').send({ detail: err.issues });
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
