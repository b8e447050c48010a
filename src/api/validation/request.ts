/**
 * Validates a request's path parameters and body together, reporting every issue at once in the
 * order FastAPI does (path first, then body). A JSON syntax error is reported alone, before
 * anything else, as FastAPI does.
 */
import { ValidationFailed, type ValidationIssue } from '../../errors.js';
import { INVALID, type Field, type Model, type Shape, type Infer } from './fields.js';
import { decodeJsonBody } from './json-body.js';

export interface RawParts {
  params?: unknown;
  query?: unknown;
  body?: Buffer;
  contentType?: string;
}

export function validateParams<S extends Shape>(model: Model<S>, params: unknown, issues: ValidationIssue[], where: 'path' | 'query' = 'path'): Infer<S> | undefined {
  const r = model.parse(params ?? {}, [where], issues);
  return r === INVALID ? undefined : r;
}

export function validateRequest<P extends Shape, B, Q extends Shape = Shape>(
  parts: RawParts,
  spec: { params?: Model<P>; query?: Model<Q>; body?: Field<B>; bodyRequired?: boolean },
): { params: Infer<P>; query: Infer<Q>; body: B } {
  const decoded = spec.body ? decodeJsonBody(parts.body, parts.contentType) : { kind: 'absent' as const };
  const issues: ValidationIssue[] = [];
  const params = spec.params ? validateParams(spec.params, parts.params, issues) : ({} as Infer<P>);
  const query = spec.query ? validateParams(spec.query, parts.query, issues, 'query') : ({} as Infer<Q>);
  let body: B | undefined;
  if (spec.body) {
    if (decoded.kind === 'absent' || decoded.value === null) {
      if (spec.bodyRequired !== false) issues.push({ type: 'missing', loc: ['body'], msg: 'Field required', input: null });
    } else {
      const r = spec.body.parse(decoded.value instanceof Uint8Array ? Buffer.from(decoded.value).toString('utf8') : decoded.value, ['body'], issues);
      if (r !== INVALID) body = r;
    }
  }
  if (issues.length) throw new ValidationFailed(issues);
  return { params: params as Infer<P>, query: query as Infer<Q>, body: body as B };
}
