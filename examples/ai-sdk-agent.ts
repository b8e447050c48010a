/**
 * A Switchboard agent on Vercel's AI SDK: every message is answered by the model with the whole
 * conversation as context, streamed to the person (Telegram drafts, web chat tokens...); asking
 * for a human hands the conversation off. Run: SWITCHBOARD_SIGNING_SECRET=whsec_... SWITCHBOARD_URL=...
 * SWITCHBOARD_API_KEY=sb_... OPENAI_API_KEY=... npx tsx --conditions=switchboard-source examples/ai-sdk-agent.ts
 */
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { openai } from '@ai-sdk/openai';
import { streamText, type LanguageModel } from 'ai';
import { createHandler, type HandlerOptions } from '@switchboard/agent';

export function aiSdkAgent(model: LanguageModel, opts?: HandlerOptions) {
  return createHandler(async ({ event, reply, history }) => {
    if (event.type !== 'message.received') return reply.none();
    if (/\b(human|person)\b/i.test(event.data.text ?? '')) {
      return reply.handoff({ reason: 'asked for a person', text: 'Connecting you with a colleague.' });
    }
    const result = streamText({ model, system: 'You are a friendly support agent. Answer briefly.', messages: await history() });
    return reply.stream(result.textStream);
  }, opts);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  createServer(aiSdkAgent(openai('gpt-4o-mini')).node).listen(Number(process.env.PORT ?? 3000));
}
