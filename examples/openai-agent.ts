/**
 * A Switchboard agent on the official OpenAI SDK: the conversation's history goes to Chat
 * Completions and the streamed answer goes straight back (`reply.stream` takes the OpenAI stream).
 * Run: SWITCHBOARD_SIGNING_SECRET=whsec_... SWITCHBOARD_URL=... SWITCHBOARD_API_KEY=sb_...
 * OPENAI_API_KEY=... npx tsx --conditions=switchboard-source examples/openai-agent.ts
 */
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import OpenAI from 'openai';
import { createHandler, type HandlerOptions } from '@switchboard/agent';

export function openaiAgent(openai: OpenAI, model = 'gpt-4o-mini', opts?: HandlerOptions) {
  return createHandler(async ({ event, reply, history }) => {
    if (event.type !== 'message.received') return reply.none();
    const messages = [{ role: 'system' as const, content: 'You are a friendly support agent. Answer briefly.' }, ...(await history({ format: 'openai' }))];
    const stream = await openai.chat.completions.create({ model, messages, stream: true });
    return reply.stream(stream);
  }, opts);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  createServer(openaiAgent(new OpenAI()).node).listen(Number(process.env.PORT ?? 3000));
}
