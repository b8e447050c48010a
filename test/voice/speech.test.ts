/** Voice building blocks: speakable streaming, agent answer parsing, Retell paths, TwiML escaping. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseRetellPath } from '../../src/api/routes/voice.js';
import { renderSpeech } from '../../src/render/speech.js';
import { answerParts, type AnswerPart } from '../../src/voice/agent-answer.js';
import { latestUtterance } from '../../src/voice/retell-socket.js';
import { SpeakableStream } from '../../src/voice/speakable.js';
import { say, twiml } from '../../src/voice/twiml.js';

function speak(deltas: string[]): string[] {
  const s = new SpeakableStream();
  const out = deltas.map((d) => s.push(d));
  out.push(s.end());
  return out;
}

async function parts(chunks: string[], type: string): Promise<AnswerPart[]> {
  const enc = new TextEncoder();
  async function* body() {
    for (const c of chunks) yield enc.encode(c);
  }
  const out: AnswerPart[] = [];
  for await (const p of answerParts(body(), type)) out.push(p);
  return out;
}

describe('SpeakableStream', () => {
  test('words go out as they arrive, markup never', () => {
    assert.deepEqual(speak(['**Sure**,', ' I', ' can', ' help', '.']), ['', 'Sure, I', ' can', ' help', '.', '']);
  });
  test('a link split across deltas is read as its text', () => {
    assert.equal(speak(['See [the', ' docs](https://ex', 'ample.com/a) now.']).join(''), 'See the docs now.');
  });
  test('bare URLs are read as their domain, even when the scheme arrives alone', () => {
    assert.equal(speak(['Visit https', '://shop.example.com/x?y=1', ' today.']).join(''), 'Visit shop.example.com today.');
  });
  test('headings and list items become sentences; code fences are summarised; emoji dropped', () => {
    const text = speak(['# Plan\n- Buy', ' milk\n- Call ', 'Bob 😀\n```sh\nnpm i\nnpm t\n```\nDone']).join('');
    assert.equal(text, 'Plan. Buy milk. Call Bob. There is a code example in the written version. Done');
  });
  test('the whole stream speaks like renderSpeech on the whole text, however it is cut', () => {
    const docs = [
      'Hi **there**! See [our site](https://example.com/help) or https://docs.example.com/x for `npm i` help.',
      '## Your order\n\n1. Pizza, _large_\n2. Salad 🥗\n\nTotal: **$12**. Anything else?',
      'Try this:\n\n```\nnpm run demo\n```\n\n> Tip: it works offline.',
    ];
    for (const md of docs) {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: md.length - 1 }), { maxLength: 10 }), (cuts) => {
          const points = [...new Set(cuts)].sort((a, b) => a - b);
          const deltas = [0, ...points].map((p, i, all) => md.slice(p, all[i + 1] ?? md.length));
          assert.equal(speak(deltas).join(''), renderSpeech(md).replace(/\n/g, ' '));
        }),
      );
    }
  });
});

describe('answerParts', () => {
  test('JSON reply with end_call', async () => {
    assert.deepEqual(await parts(['{"reply":{"text":"Bye","end_call":true}}'], 'application/json'), [{ text: 'Bye' }, { endCall: true }]);
  });
  test('SSE deltas, end_call as data or as an event, [DONE] ends', async () => {
    assert.deepEqual(await parts(['data: {"delta":"a"}\n\ndata: {"delta":"b","end_call":true}\n\n', 'event: end_call\ndata: x\n\ndata: [DONE]\n\ndata: late\n\n'], 'text/event-stream'), [{ text: 'a' }, { text: 'b' }, { endCall: true }, { endCall: true }]);
  });
  test('chunked text/plain passes through; other types say nothing', async () => {
    assert.deepEqual(await parts(['Hel', 'lo'], 'text/plain; charset=utf-8'), [{ text: 'Hel' }, { text: 'lo' }]);
    assert.deepEqual(await parts(['<html>'], 'text/html'), []);
  });
});

describe('Retell helpers', () => {
  test('the latest utterance is what the user said since the agent last spoke', () => {
    assert.equal(latestUtterance([{ role: 'user', content: 'hi' }, { role: 'agent', content: 'Hello' }, { role: 'user', content: 'I need' }, { role: 'user', content: 'help' }]), 'I need help');
    assert.equal(latestUtterance([{ role: 'user', content: 'hi' }, { role: 'agent', content: 'Hello' }]), '');
    assert.equal(latestUtterance(undefined), '');
  });
  test('socket paths: token in the path (what Retell opens) or in the query', () => {
    const ch = '0b6f1d2e-3c4a-4b5c-8d6e-7f8091a2b3c4';
    assert.deepEqual(parseRetellPath(`/v1/voice/retell/${ch}/tok_1/call_9`), { channelId: ch, token: 'tok_1', callId: 'call_9' });
    assert.deepEqual(parseRetellPath(`/v1/voice/retell/${ch}/call_9?token=tok_1`), { channelId: ch, token: 'tok_1', callId: 'call_9' });
    assert.deepEqual(parseRetellPath(`/v1/voice/retell/${ch}/call_9`), { channelId: ch, token: undefined, callId: 'call_9' });
    assert.equal(parseRetellPath('/v1/voice/retell/not-a-uuid/call_9'), undefined);
    assert.equal(parseRetellPath(`/v1/voice/retell/${ch}/a/b/c`), undefined);
  });
});

test('TwiML escapes what it says', () => {
  assert.equal(twiml(say('Tom & "Jerry" <3', { voice: 'Polly.Joanna' })), '<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="Polly.Joanna">Tom &amp; &quot;Jerry&quot; &lt;3</Say></Response>');
});
