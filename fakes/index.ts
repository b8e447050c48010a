/**
 * All provider fakes at once, for tests and the dev demo. Each runs its own loopback server on a
 * free port; point the matching client's `baseUrl` (and Gmail's `tokenUrl`) at it.
 *
 * Example:
 *   const fakes = await startAllFakes();
 *   const tg = telegramApi({ botToken: fakes.telegram.token, baseUrl: fakes.telegram.url });
 *   ...
 *   await fakes.close();
 */
import { startFakeGmail } from './gmail.js';
import type { FakeGmail, FakeGmailOptions } from './gmail.js';
import { startFakeGraph } from './graph.js';
import type { FakeGraph, FakeGraphOptions } from './graph.js';
import { startFakeResend } from './resend.js';
import type { FakeResend, FakeResendOptions } from './resend.js';
import { startFakeRetell } from './retell.js';
import type { FakeRetell, FakeRetellOptions } from './retell.js';
import { startFakeTelegram } from './telegram.js';
import type { FakeTelegram, FakeTelegramOptions } from './telegram.js';
import { startFakeTwilio } from './twilio.js';
import type { FakeTwilio, FakeTwilioOptions } from './twilio.js';
import { startFakeVonage } from './vonage.js';
import type { FakeVonage, FakeVonageOptions } from './vonage.js';

export * from './fake-server.js';
export * from './gmail.js';
export * from './graph.js';
export * from './resend.js';
export * from './retell.js';
export * from './telegram.js';
export * from './twilio.js';
export * from './vonage.js';
export { parseMail } from './mail-parse.js';
export type { ParsedPart } from './mail-parse.js';
export { parseTelegramHtml } from './telegram-html.js';
export * from './webhook-delivery.js';

export interface AllFakesOptions {
  telegram?: FakeTelegramOptions;
  graph?: FakeGraphOptions;
  twilio?: FakeTwilioOptions;
  resend?: FakeResendOptions;
  gmail?: FakeGmailOptions;
  retell?: FakeRetellOptions;
  vonage?: FakeVonageOptions;
}

export interface AllFakes {
  telegram: FakeTelegram;
  /** WhatsApp Cloud (Graph API); use `graph.baseUrl` (versioned) as the client's baseUrl. */
  graph: FakeGraph;
  twilio: FakeTwilio;
  resend: FakeResend;
  /** Gmail API and Google token endpoint (`gmail.tokenUrl`). */
  gmail: FakeGmail;
  retell: FakeRetell;
  /** Vonage Messages API (SMS and WhatsApp). */
  vonage: FakeVonage;
  /** Provider name -> base URL, in the shape of a channel's `api_base_url` setting. */
  baseUrls: Record<'telegram' | 'meta_cloud' | 'twilio' | 'resend' | 'gmail' | 'retell' | 'vonage', string>;
  close(): Promise<void>;
}

export async function startAllFakes(opts: AllFakesOptions = {}): Promise<AllFakes> {
  const [telegram, graph, twilio, resend, gmail, retell, vonage] = await Promise.all([
    startFakeTelegram(opts.telegram),
    startFakeGraph(opts.graph),
    startFakeTwilio(opts.twilio),
    startFakeResend(opts.resend),
    startFakeGmail(opts.gmail),
    startFakeRetell(opts.retell),
    startFakeVonage(opts.vonage),
  ]);
  return {
    telegram, graph, twilio, resend, gmail, retell, vonage,
    baseUrls: {
      telegram: telegram.url,
      meta_cloud: graph.baseUrl,
      twilio: twilio.url,
      resend: resend.url,
      gmail: gmail.url,
      retell: retell.url,
      vonage: vonage.url,
    },
    async close() {
      await Promise.all([telegram, graph, twilio, resend, gmail, retell, vonage].map((f) => f.close()));
    },
  };
}
