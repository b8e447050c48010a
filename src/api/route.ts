/**
 * Declares a JSON route once: its schemas feed the OpenAPI document, and the same field
 * definitions validate the request with FastAPI-exact errors before the handler runs.
 * Handlers stay thin: validated input in, a plain object out.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { Principal } from '../core/principal.js';
import type { Field, Infer, Model, Shape } from './validation/fields.js';
import { validateRequest } from './validation/request.js';
import { principalOf } from './plugins/auth.js';

export interface RouteContext<P extends Shape, B, Q extends Shape = Shape> {
  principal: Principal;
  params: Infer<P>;
  query: Infer<Q>;
  body: B;
  req: FastifyRequest;
  reply: FastifyReply;
}

export interface RouteSpec<P extends Shape, B, Q extends Shape = Shape> {
  method: HTTPMethods;
  url: string;
  summary: string;
  tags: string[];
  operationId?: string;
  params?: Model<P>;
  query?: Model<Q>;
  body?: Field<B>;
  /** JSON schema of documented request headers (OpenAPI only; handlers check their own). */
  headers?: Record<string, unknown>;
  /** Status -> JSON schema of the success response (also used to serialise, dropping unknown fields). */
  responses: Record<number, Record<string, unknown> | null>;
  handler(ctx: RouteContext<P, B, Q>): Promise<unknown>;
}

const VALIDATION_ERROR_SCHEMA = {
  type: 'object',
  properties: {
    detail: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          loc: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'integer' }] } },
          msg: { type: 'string' },
          type: { type: 'string' },
          input: {},
          ctx: { type: 'object', additionalProperties: true },
        },
        required: ['loc', 'msg', 'type'],
      },
    },
  },
};

export function defineRoute<P extends Shape = Shape, B = undefined, Q extends Shape = Shape>(app: FastifyInstance, spec: RouteSpec<P, B, Q>): void {
  const response: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(spec.responses)) {
    response[status] = schema === null ? { description: 'No content', type: 'null' } : schema;
  }
  response['422'] = { description: 'Validation Error', ...VALIDATION_ERROR_SCHEMA };
  app.route({
    method: spec.method,
    url: spec.url,
    schema: {
      summary: spec.summary,
      tags: spec.tags,
      ...(spec.operationId ? { operationId: spec.operationId } : {}),
      ...(spec.params ? { params: spec.params.schema } : {}),
      ...(spec.query ? { querystring: spec.query.schema } : {}),
      ...(spec.body ? { body: spec.body.schema } : {}),
      ...(spec.headers ? { headers: spec.headers } : {}),
      security: [{ bearer: [] }, { apiKey: [] }],
      response,
    },
    handler: async (req, reply) => {
      const principal = principalOf(req);
      const { params, query, body } = validateRequest<P, B, Q>(
        { params: req.params, query: req.query, body: req.body as Buffer | undefined, contentType: req.headers['content-type'] },
        { params: spec.params, query: spec.query, body: spec.body },
      );
      const status = Number(Object.keys(spec.responses)[0]);
      const result = await spec.handler({ principal, params, query, body, req, reply });
      // A handler that answered by itself returns the reply.
      if (result === reply) return reply;
      if (!reply.sent) {
        reply.code(status);
        if (spec.responses[status] === null) return reply.send();
        return reply.send(result);
      }
      return reply;
    },
  });
}
