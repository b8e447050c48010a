/** Sending a message into a conversation (the agent's or an operator's answer). */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../core/services.js';
import { NotFound, ValidationFailed } from '../../errors.js';
import { toMessageView } from '../../core/outbound/service.js';
import { defineRoute } from '../route.js';
import { dict, httpUrl, list, model, str, uuid } from '../validation/fields.js';

const sendBody = model(
  {
    text: { field: str({ maxLength: 100_000, description: 'Markdown; rendered natively for the channel.' }) },
    attachments: { field: list(model({ url: { field: httpUrl(), required: true }, kind: { field: str({ maxLength: 20 }) }, file_name: { field: str({ maxLength: 255 }) } })) },
    reply_to: { field: uuid({ description: 'Id of the message this answers.' }) },
    template: { field: model({ name: { field: str({ minLength: 1, maxLength: 512 }), required: true }, language: { field: str({ minLength: 2, maxLength: 15 }), required: true }, components: { field: list(dict()) } }) },
    subject: { field: str({ maxLength: 998 }) },
  },
  { title: 'SendMessage' },
);
const convPath = model({ instance_id: { field: uuid(), required: true }, conversation_id: { field: uuid(), required: true } });
const msgPath = model({ instance_id: { field: uuid(), required: true }, message_id: { field: uuid(), required: true } });
const messageSchema = { type: 'object', additionalProperties: true };

export function messageRoutes(app: FastifyInstance, s: Services): void {
  defineRoute(app, {
    method: 'POST', url: '/v1/instances/:instance_id/conversations/:conversation_id/messages', summary: 'Send a message', tags: ['Conversations'],
    params: convPath, body: sendBody,
    responses: { 202: messageSchema },
    async handler({ principal, params, body, req, reply }) {
      await s.instances.require(principal, params.instance_id);
      if (body.text === undefined && !body.attachments?.length && !body.template) {
        throw new ValidationFailed([{ type: 'missing', loc: ['body', 'text'], msg: 'Field required', input: body }]);
      }
      const key = req.headers['idempotency-key'];
      if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 255)) {
        throw new ValidationFailed([{ type: 'string_too_long', loc: ['header', 'idempotency-key'], msg: 'Idempotency-Key must be 1-255 characters', input: key }]);
      }
      const r = await s.outbound.enqueue(params.instance_id, params.conversation_id, body, key as string | undefined);
      if (r.duplicate) reply.header('idempotent-replayed', 'true');
      return r.message;
    },
  });

  defineRoute(app, {
    method: 'GET', url: '/v1/instances/:instance_id/messages/:message_id', summary: 'Get a message and its delivery status', tags: ['Conversations'],
    params: msgPath,
    responses: { 200: messageSchema },
    async handler({ principal, params }) {
      await s.instances.require(principal, params.instance_id);
      const m = await s.repos.conversations.message(params.message_id);
      if (!m || m.instance_id !== params.instance_id) throw new NotFound('Message not found');
      return toMessageView(m);
    },
  });
}
