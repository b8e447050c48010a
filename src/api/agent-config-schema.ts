/** `agent_config` of an instance (core/agent-config.ts): the request model and the response schema. */
import type { ValidationIssue } from '../errors.js';
import { INVALID, int, model, nullable, str, type Field } from './validation/fields.js';

/** A float within bounds, with Pydantic's lax-mode errors (integers and numeric strings accepted). */
function float(opts: { ge: number; le: number; description?: string }): Field<number> {
  const fail = (issues: ValidationIssue[], type: string, loc: (string | number)[], msg: string, input: unknown, ctx?: Record<string, unknown>): typeof INVALID => {
    issues.push(ctx ? { type, loc, msg, input, ctx } : { type, loc, msg, input });
    return INVALID;
  };
  return {
    schema: { type: 'number', minimum: opts.ge, maximum: opts.le, ...(opts.description ? { description: opts.description } : {}) },
    parse(v, loc, issues) {
      let n: number;
      if (typeof v === 'number') n = v;
      else if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) n = Number(v);
      else if (typeof v === 'string') return fail(issues, 'float_parsing', loc, 'Input should be a valid number, unable to parse string as a number', v);
      else return fail(issues, 'float_type', loc, 'Input should be a valid number', v);
      if (!Number.isFinite(n)) return fail(issues, 'finite_number', loc, 'Input should be a finite number', v);
      if (n < opts.ge) return fail(issues, 'greater_than_equal', loc, `Input should be greater than or equal to ${opts.ge}`, v, { ge: opts.ge });
      if (n > opts.le) return fail(issues, 'less_than_equal', loc, `Input should be less than or equal to ${opts.le}`, v, { le: opts.le });
      return n;
    },
  };
}

export const agentConfigBody = model(
  {
    model: { field: str({ minLength: 1, maxLength: 200, description: 'The model name, e.g. gpt-4o-mini.' }) },
    system_prompt: { field: str({ maxLength: 100_000, description: 'Instructions sent first on every call.' }) },
    temperature: { field: nullable(float({ ge: 0, le: 2 })) },
    max_history_messages: { field: nullable(int({ ge: 1, le: 500, description: 'How many of the latest messages are sent (default 30).' })) },
    api_key: { field: str({ minLength: 1, maxLength: 1000, description: 'Sent as Authorization: Bearer. Write-only: stored encrypted, never returned.' }) },
  },
  { title: 'AgentConfig' },
);

export const agentConfigResponse = {
  type: ['object', 'null'],
  description: 'Settings of an openai+ agent_url (the api_key is write-only and never returned).',
  properties: {
    model: { type: 'string' },
    system_prompt: { type: 'string' },
    temperature: { type: 'number' },
    max_history_messages: { type: 'integer' },
  },
};
