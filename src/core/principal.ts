/** Who is calling: the operator (sees everything) or an API key scoped to some instances. */
import { Forbidden, NotFound } from '../errors.js';

export type Principal =
  | { kind: 'operator'; keyId: string | null }
  | { kind: 'scoped'; keyId: string; instanceIds: ReadonlySet<string> };

export function canSeeInstance(p: Principal, instanceId: string): boolean {
  return p.kind === 'operator' || p.instanceIds.has(instanceId);
}

/** Instance ids the principal may list, or undefined for "all". */
export function visibleInstanceIds(p: Principal): string[] | undefined {
  return p.kind === 'operator' ? undefined : [...p.instanceIds];
}

export function requireOperator(p: Principal, what: string): void {
  if (p.kind !== 'operator') throw new Forbidden(`This API key cannot ${what}; an operator key is required.`);
}

/** The 404 used for anything that does not exist *or* is not visible: the two must be indistinguishable. */
export function instanceNotFound(): NotFound {
  return new NotFound('Instance not found');
}
export function channelNotFound(): NotFound {
  return new NotFound('Channel not found');
}
