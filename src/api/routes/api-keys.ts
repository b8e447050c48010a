/** API keys (operator only). */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../core/services.js';
import { NotFound } from '../../errors.js';
import { defineRoute } from '../route.js';
import { apiKeyCreateBody, apiKeyCreatedResponse, apiKeyListResponse, idPath } from '../schemas.js';

export function apiKeyRoutes(app: FastifyInstance, s: Services): void {
  const tags = ['API keys'];
  defineRoute(app, {
    method: 'POST', url: '/v1/api-keys', summary: 'Create API Key', tags,
    body: apiKeyCreateBody,
    responses: { 201: apiKeyCreatedResponse },
    handler: ({ principal, body }) => s.apiKeys.create(principal, body),
  });
  defineRoute(app, {
    method: 'GET', url: '/v1/api-keys', summary: 'List API Keys', tags,
    responses: { 200: apiKeyListResponse },
    async handler({ principal }) {
      const api_keys = await s.apiKeys.list(principal);
      return { api_keys, count: api_keys.length };
    },
  });
  defineRoute(app, {
    method: 'DELETE', url: '/v1/api-keys/:id', summary: 'Delete API Key', tags,
    params: idPath,
    responses: { 204: null },
    async handler({ principal, params }) {
      if (!(await s.apiKeys.delete(principal, params.id))) throw new NotFound('API key not found');
    },
  });
}
