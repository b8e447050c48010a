/** GET /v1/providers: what each registered provider is and can do (any valid API key). */
import type { FastifyInstance } from 'fastify';
import { listProviders } from '../../core/providers.js';
import { defineRoute } from '../route.js';

const nullableInt = { anyOf: [{ type: 'integer' }, { type: 'null' }] };
const strings = { type: 'array', items: { type: 'string' } };

const providerSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    display_name: { type: 'string' },
    channel_types: strings,
    secret_names: { type: 'object', properties: { required: strings, optional: strings }, required: ['required', 'optional'] },
    verify_secret_name: { anyOf: [{ type: 'string' }, { type: 'null' }] },
    routing_config_keys: strings,
    capabilities: {
      type: 'object',
      properties: {
        format: { type: 'string', enum: ['telegram_html', 'whatsapp', 'plain', 'email', 'speech', 'markdown'] },
        max_text_length: nullableInt,
        max_attachments: nullableInt,
        drafts: { type: 'boolean' },
        typing: { type: 'boolean' },
        edit: { type: 'boolean' },
        customer_care_window_hours: nullableInt,
      },
      required: ['format', 'max_text_length', 'max_attachments', 'drafts', 'typing', 'edit', 'customer_care_window_hours'],
    },
  },
  required: ['name', 'display_name', 'channel_types', 'secret_names', 'verify_secret_name', 'routing_config_keys', 'capabilities'],
};

export function providerRoutes(app: FastifyInstance): void {
  defineRoute(app, {
    method: 'GET', url: '/v1/providers', summary: 'List Providers', tags: ['Providers'],
    responses: { 200: { type: 'object', properties: { providers: { type: 'array', items: providerSchema }, count: { type: 'integer' } }, required: ['providers', 'count'] } },
    handler: async () => listProviders(),
  });
}
