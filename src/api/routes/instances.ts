/** Agent instances: the objects channels belong to. */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../core/services.js';
import { toInstanceView } from '../../core/instances.js';
import { defineRoute } from '../route.js';
import { instanceCreateBody, instanceCreatedResponse, instanceListResponse, instancePath, instanceResponse, instanceUpdateBody, signingSecretResponse } from '../schemas.js';

export function instanceRoutes(app: FastifyInstance, s: Services): void {
  const tags = ['Instances'];

  defineRoute(app, {
    method: 'POST', url: '/v1/instances', summary: 'Create Instance', tags,
    body: instanceCreateBody,
    responses: { 201: instanceCreatedResponse },
    handler: ({ principal, body }) => s.instances.create(principal, body),
  });

  defineRoute(app, {
    method: 'GET', url: '/v1/instances', summary: 'List Instances', tags,
    responses: { 200: instanceListResponse },
    async handler({ principal }) {
      const instances = await s.instances.list(principal);
      return { instances, count: instances.length };
    },
  });

  defineRoute(app, {
    method: 'GET', url: '/v1/instances/:instance_id', summary: 'Get Instance', tags,
    params: instancePath,
    responses: { 200: instanceResponse },
    handler: async ({ principal, params }) => toInstanceView(await s.instances.require(principal, params.instance_id)),
  });

  defineRoute(app, {
    method: 'PATCH', url: '/v1/instances/:instance_id', summary: 'Update Instance', tags,
    params: instancePath,
    body: instanceUpdateBody,
    responses: { 200: instanceResponse },
    handler: ({ principal, params, body }) => s.instances.update(principal, params.instance_id, body),
  });

  defineRoute(app, {
    method: 'DELETE', url: '/v1/instances/:instance_id', summary: 'Delete Instance', tags,
    params: instancePath,
    responses: { 204: null },
    handler: ({ principal, params }) => s.instances.delete(principal, params.instance_id),
  });

  defineRoute(app, {
    method: 'POST', url: '/v1/instances/:instance_id/signing-secret', summary: 'Rotate the agent delivery signing secret', tags,
    params: instancePath,
    responses: { 200: signingSecretResponse },
    handler: ({ principal, params }) => s.instances.rotateSigningSecret(principal, params.instance_id),
  });
}
