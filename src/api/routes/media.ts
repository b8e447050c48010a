/**
 * Media routes: signed links (public; the signature is the credential), items and bytes for
 * API keys with access to the instance, and uploads for outbound attachments.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../core/services.js';
import { Forbidden, NotFound, ValidationFailed } from '../../errors.js';
import { LinkSigner } from '../../media/links.js';
import { parseMultipart } from '../../media/multipart.js';
import { tooLarge, type ServedBytes } from '../../media/service.js';
import type { MediaRow } from '../../store/repos/media.js';
import { defineRoute } from '../route.js';
import { int, model, parseUuid, uuid } from '../validation/fields.js';
import { principalOf } from '../plugins/auth.js';

const itemPath = model({ instance_id: { field: uuid(), required: true }, media_id: { field: uuid(), required: true } });
const instPath = model({ instance_id: { field: uuid(), required: true } });
const itemSchema = { type: 'object', additionalProperties: true };
/** Multipart framing around the file: the cap applies to the file, the body may be this much larger. */
const MULTIPART_SLACK = 64 * 1024;

function send(reply: FastifyReply, served: ServedBytes | undefined): FastifyReply {
  if (!served) throw new NotFound('Media not found');
  reply.code(served.status).headers(served.headers);
  return served.body ? reply.send(served.body) : reply.send();
}

export function mediaRoutes(app: FastifyInstance, s: Services): void {
  const media = s.media;
  const maxBytes = s.config.media.maxBytes;

  async function visible(instanceId: string, mediaId: string): Promise<MediaRow> {
    const row = await media.repo.get(mediaId);
    // Another instance's item answers exactly like a missing one.
    if (!row || row.instance_id !== instanceId) throw new NotFound('Media not found');
    return row;
  }

  // The link itself is the credential (agents, Twilio fetching an MMS, a browser).
  app.get<{ Params: { media_id: string }; Querystring: { expires?: string; signature?: string } }>(
    '/v1/media/:media_id',
    { config: { public: true }, schema: { hide: true } },
    async (req, reply) => {
      const id = parseUuid(req.params.media_id);
      if (!id) throw new NotFound('Media not found');
      const q = req.query;
      const check = media.links.check(id, q.expires, q.signature);
      if (check === 'bad_signature') throw new Forbidden('The media link signature is not valid.');
      if (check === 'expired') throw new Forbidden('The media link has expired; get a fresh one from GET /v1/instances/{id}/media/{media_id}.');
      const row = await media.repo.get(id);
      if (!row || !(await s.repos.instances.get(row.instance_id))) throw new NotFound('Media not found');
      return send(reply, await media.serve(row, req.headers.range, LinkSigner.remaining(q.expires!)));
    },
  );

  defineRoute(app, {
    method: 'GET', url: '/v1/instances/:instance_id/media/:media_id', summary: 'Get a media item (with a fresh signed link)', tags: ['Media'],
    params: itemPath,
    query: model({ expires_in: { field: int({ ge: 60, le: 7 * 86_400, description: 'Lifetime of the returned link, seconds (default SWITCHBOARD_MEDIA_LINK_TTL).' }) } }),
    responses: { 200: itemSchema },
    async handler({ principal, params, query }) {
      await s.instances.require(principal, params.instance_id);
      return media.item(await visible(params.instance_id, params.media_id), query.expires_in);
    },
  });

  app.get<{ Params: { instance_id: string; media_id: string } }>('/v1/instances/:instance_id/media/:media_id/content', { schema: { hide: true } }, async (req, reply) => {
    const instanceId = parseUuid(req.params.instance_id);
    const mediaId = parseUuid(req.params.media_id);
    if (!instanceId || !mediaId) throw new NotFound('Media not found');
    await s.instances.require(principalOf(req), instanceId);
    return send(reply, await media.serve(await visible(instanceId, mediaId), req.headers.range, 0));
  });

  app.post<{ Params: { instance_id: string }; Querystring: { file_name?: string } }>(
    '/v1/instances/:instance_id/media',
    {
      bodyLimit: maxBytes + MULTIPART_SLACK,
      schema: { summary: 'Upload a file (raw body with its Content-Type and ?file_name=, or multipart/form-data)', tags: ['Media'], security: [{ bearer: [] }, { apiKey: [] }] },
      // A declared length past the cap is refused before any of the body is read.
      preParsing: async (req: FastifyRequest) => {
        const declared = Number(req.headers['content-length'] ?? NaN);
        const multipart = /^multipart\/form-data/i.test(req.headers['content-type'] ?? '');
        if (declared > maxBytes + (multipart ? MULTIPART_SLACK : 0)) {
          req.raw.resume();
          throw tooLarge(maxBytes);
        }
      },
    },
    async (req, reply) => {
      const instanceId = parseUuid(req.params.instance_id);
      if (!instanceId) throw new ValidationFailed([{ type: 'uuid_parsing', loc: ['path', 'instance_id'], msg: 'Input should be a valid UUID', input: req.params.instance_id }]);
      await s.instances.require(principalOf(req), instanceId);
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const type = req.headers['content-type'] ?? '';
      let bytes = body;
      let mime: string | undefined = type;
      let fileName = typeof req.query.file_name === 'string' ? req.query.file_name : undefined;
      if (/^multipart\/form-data/i.test(type)) {
        const { file, fields } = await parseMultipart(body, type, maxBytes);
        bytes = file.bytes;
        mime = file.mimeType;
        fileName = fields.file_name ?? file.fileName ?? fileName;
      }
      const row = await media.upload(instanceId, bytes, mime, fileName);
      const item = media.item(row);
      return reply.code(201).send({ id: item.id, kind: item.kind, mime_type: item.mime_type, size: item.size, sha256: item.sha256, ...(item.file_name ? { file_name: item.file_name } : {}), url: item.url, url_expires_at: item.url_expires_at });
    },
  );
}
