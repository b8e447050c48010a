/** Customer connections (per instance) and platform credentials (operator only). */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../core/services.js';
import { defineRoute } from '../route.js';
import { accountCreateBody, accountListResponse, accountResponse, connectionPath, idPath, instancePath } from '../schemas.js';

export function accountRoutes(app: FastifyInstance, s: Services): void {
  const ctags = ['Connections'];
  defineRoute(app, {
    method: 'POST', url: '/v1/instances/:instance_id/connections', summary: 'Create Connection', tags: ctags,
    params: instancePath, body: accountCreateBody,
    responses: { 201: accountResponse },
    async handler({ principal, params, body }) {
      await s.instances.require(principal, params.instance_id);
      return s.accounts.createConnection(params.instance_id, body);
    },
  });
  defineRoute(app, {
    method: 'GET', url: '/v1/instances/:instance_id/connections', summary: 'List Connections', tags: ctags,
    params: instancePath,
    responses: { 200: accountListResponse('connections') },
    async handler({ principal, params }) {
      await s.instances.require(principal, params.instance_id);
      const connections = await s.accounts.listConnections(params.instance_id);
      return { connections, count: connections.length };
    },
  });
  defineRoute(app, {
    method: 'GET', url: '/v1/instances/:instance_id/connections/:connection_id', summary: 'Get Connection', tags: ctags,
    params: connectionPath,
    responses: { 200: accountResponse },
    async handler({ principal, params }) {
      await s.instances.require(principal, params.instance_id);
      return s.accounts.view(await s.accounts.requireConnection(params.instance_id, params.connection_id));
    },
  });
  defineRoute(app, {
    method: 'DELETE', url: '/v1/instances/:instance_id/connections/:connection_id', summary: 'Delete Connection', tags: ctags,
    params: connectionPath,
    responses: { 204: null },
    async handler({ principal, params }) {
      await s.instances.require(principal, params.instance_id);
      await s.accounts.delete(await s.accounts.requireConnection(params.instance_id, params.connection_id));
    },
  });

  const ptags = ['Credentials'];
  defineRoute(app, {
    method: 'POST', url: '/v1/credentials', summary: 'Create Platform Credential', tags: ptags,
    body: accountCreateBody,
    responses: { 201: accountResponse },
    handler: ({ principal, body }) => s.accounts.createCredential(principal, body),
  });
  defineRoute(app, {
    method: 'GET', url: '/v1/credentials', summary: 'List Platform Credentials', tags: ptags,
    responses: { 200: accountListResponse('credentials') },
    async handler({ principal }) {
      const credentials = await s.accounts.listCredentials(principal);
      return { credentials, count: credentials.length };
    },
  });
  defineRoute(app, {
    method: 'GET', url: '/v1/credentials/:id', summary: 'Get Platform Credential', tags: ptags,
    params: idPath,
    responses: { 200: accountResponse },
    handler: async ({ principal, params }) => s.accounts.view(await s.accounts.requireCredential(principal, params.id)),
  });
  defineRoute(app, {
    method: 'DELETE', url: '/v1/credentials/:id', summary: 'Delete Platform Credential', tags: ptags,
    params: idPath,
    responses: { 204: null },
    handler: async ({ principal, params }) => s.accounts.delete(await s.accounts.requireCredential(principal, params.id)),
  });
}
