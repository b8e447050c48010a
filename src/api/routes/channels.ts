/** The seed's Channels router: list, create, update, delete the channels of an instance. */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../core/services.js';
import { canSeeInstance, instanceNotFound } from '../../core/principal.js';
import { defineRoute } from '../route.js';
import { channelCreateBody, channelListResponse, channelPath, channelResponse, channelUpdateBody, instancePath } from '../schemas.js';

export function channelRoutes(app: FastifyInstance, s: Services): void {
  const tags = ['Channels'];

  const serialisedLists = new WeakMap<readonly unknown[], string>();

  defineRoute(app, {
    method: 'GET',
    url: '/v1/instances/:instance_id/channels',
    summary: 'List Instance Channels',
    operationId: 'list_instance_channels',
    tags,
    params: instancePath,
    responses: { 200: channelListResponse },
    async handler({ principal, params, reply }) {
      // The hot path: one query when the instance has channels; the existence check (for the
      // 404) only runs when the list is empty. Visibility is checked first either way.
      if (!canSeeInstance(principal, params.instance_id)) throw instanceNotFound();
      const channels = await s.channels.list(params.instance_id);
      if (channels.length === 0) await s.instances.require(principal, params.instance_id);
      // While the service hands out the same cached list, its JSON is the same too: serialise it
      // once (with this route's own response serialiser, so the bytes are identical) and reuse it.
      let body = serialisedLists.get(channels);
      if (body === undefined) {
        body = reply.serialize({ channels, count: channels.length }) as string;
        serialisedLists.set(channels, body);
      }
      return reply.code(200).type('application/json; charset=utf-8').send(body);
    },
  });

  defineRoute(app, {
    method: 'POST',
    url: '/v1/instances/:instance_id/channels',
    summary: 'Create Channel Endpoint',
    operationId: 'create_channel_endpoint',
    tags,
    params: instancePath,
    body: channelCreateBody,
    responses: { 201: channelResponse },
    async handler({ principal, params, body }) {
      await s.instances.require(principal, params.instance_id);
      return s.channels.create(principal, params.instance_id, body);
    },
  });

  defineRoute(app, {
    method: 'PATCH',
    url: '/v1/instances/:instance_id/channels/:endpoint_id',
    summary: 'Update Channel Endpoint',
    operationId: 'update_channel_endpoint',
    tags,
    params: channelPath,
    body: channelUpdateBody,
    responses: { 200: channelResponse },
    async handler({ principal, params, body }) {
      await s.instances.require(principal, params.instance_id);
      return s.channels.update(params.instance_id, params.endpoint_id, body, principal);
    },
  });

  defineRoute(app, {
    method: 'DELETE',
    url: '/v1/instances/:instance_id/channels/:endpoint_id',
    summary: 'Delete Channel Endpoint',
    operationId: 'delete_channel_endpoint',
    tags,
    params: channelPath,
    responses: { 204: null },
    async handler({ principal, params }) {
      await s.instances.require(principal, params.instance_id);
      await s.channels.delete(params.instance_id, params.endpoint_id);
    },
  });
}
