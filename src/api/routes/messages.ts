/** Sending a message into a conversation (the agent's or an operator's answer). */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../core/services.js';
import { NotFound, ValidationFailed } from '../../errors.js';
import { toMessageView } from '../../core/outbound/service.js';
import { defineRoute } from '../route.js';
import { dict, httpUrl, list, literal, model, str, uuid } from '../validation/fields.js';
import { historyMessageSchema, idempotencyHeaders } from '../conversation-schemas.js';

const sendBody = model(
  {
    text: { field: str({ maxLength: 100_000, description: 'Markdown; rendered natively for the channel.' }) },
    attachments: { field: list(model({ url: { field: httpUrl() }, media_id: { field: uuid({ description: 'An upload (POST /v1/instances/{id}/media), delivered natively per channel.' }) }, kind: { field: str({ maxLength: 20 }) }, file_name: { field: str({ maxLength: 255 }) } })) },
    reply_to: { field: uuid({ description: 'Id of the message this answers.' }) },
    template: { field: model({ name: { field: str({ minLength: 1, maxLength: 512 }), required: true }, language: { field: str({ minLength: 2, maxLength: 15 }), required: true }, components: { field: list(dict()) } }) },
    subject: { field: str({ maxLength: 998 }) },
    author: {
      field: model(
        {
          kind: { field: literal(['agent', 'operator'] as const, { description: 'agent (the default) or operator: an operator writing in agent mode takes the conversation over (mode "human").' }), required: true },
          id: { field: str({ maxLength: 255 }) },
          name: { field: str({ maxLength: 255, description: 'Shown as the author; becomes the assignee on takeover.' }) },
        },
        { title: 'MessageAuthor' },
      ),
    },
  },
  { title: 'SendMessage' },
);
const convPath = model({ instance_id: { field: uuid(), required: true }, conversation_id: { field: uuid(), required: true } });
const msgPath = model({ instance_id: { field: uuid(), required: true }, message_id: { field: uuid(), required: true } });

export function messageRoutes(app: FastifyInstance, s: Services): void {
  defineRoute(app, {
    method: 'POST', url: '/v1/instances/:instance_id/conversations/:conversation_id/messages', summary: 'Send a message', tags: ['Conversations'],
    params: convPath, body: sendBody, headers: idempotencyHeaders,
    responses: { 202: historyMessageSchema },
    async handler({ principal, params, body, req, reply }) {
      await s.instances.require(principal, params.instance_id);
      if (body.text === undefined && !body.attachments?.length && !body.template) {
        throw new ValidationFailed([{ type: 'missing', loc: ['body', 'text'], msg: 'Field required', input: body }]);
      }
      const unnamed = (body.attachments ?? []).flatMap((a, i) => (a.url === undefined && a.media_id === undefined ? [i] : []));
      if (unnamed.length) throw new ValidationFailed(unnamed.map((i) => ({ type: 'missing', loc: ['body', 'attachments', i, 'url'], msg: 'Field required (give url or media_id)', input: body.attachments![i] })));
      const key = req.headers['idempotency-key'];
      if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 255)) {
        throw new ValidationFailed([{ type: 'string_too_long', loc: ['header', 'idempotency-key'], msg: 'Idempotency-Key must be 1-255 characters', input: key }]);
      }
      const { author, ...input } = body;
      const r = await s.outbound.enqueue(params.instance_id, params.conversation_id, input, key as string | undefined, undefined, author ? { author } : {});
      if (r.duplicate) reply.header('idempotent-replayed', 'true');
      return r.message;
    },
  });

  defineRoute(app, {
    method: 'GET', url: '/v1/instances/:instance_id/messages/:message_id', summary: 'Get a message and its delivery status', tags: ['Conversations'],
    params: msgPath,
    responses: { 200: historyMessageSchema },
    async handler({ principal, params }) {
      await s.instances.require(principal, params.instance_id);
      const m = await s.repos.conversations.message(params.message_id);
      if (!m || m.instance_id !== params.instance_id) throw new NotFound('Message not found');
      const media = await s.media.itemsForMessages([m.id]);
      return { ...toMessageView(m), attachments: media.get(m.id) ?? [] };
    },
  });
}
