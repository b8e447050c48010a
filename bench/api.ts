/**
 * Channels API throughput: GET /v1/instances/{id}/channels (10 channels) and POST to the same
 * path (a unique external_identifier per request), against a bare node:http server answering a
 * body of the same size; plus /healthz against a bare server answering its body (the framework
 * floor). Aims: list >= 0.35x bare req/s at 32 connections; p99 < 10 ms.
 */
import { load, compare, startServer, type LoadOptions } from './lib/load.js';
import type { BenchResult, Row } from './lib/report.js';

const PACED_RATE = Number(process.env.BENCH_PACED_RATE ?? 500);
// autocannon paces each connection in bursts; few connections keep the bursts small.
const PACED_CONNECTIONS = 4;
const CONNECTIONS = 32;
const LIST_RATIO_AIM = 0.35;
const P99_AIM_MS = 10;

export default async function apiBench(): Promise<BenchResult> {
  const sb = await startServer<{ key: string; instanceId: string }>('switchboard');
  const path = `/v1/instances/${sb.info.instanceId}/channels`;
  const auth = { 'x-api-key': sb.info.key };
  const json = { ...auth, 'content-type': 'application/json' };
  const runTag = Date.now().toString(36);
  let n = 0;
  const createBody = () => JSON.stringify({ channel_type: 'sms', provider: 'twilio', external_identifier: `+1555${runTag}${n++}`, config: { label: 'bench' }, enabled: true });

  let bare: Awaited<ReturnType<typeof startServer>> | undefined;
  let bareHealth: typeof bare;
  try {
    // One request of each kind first: checks the server answers as the bench expects, and gives
    // the bare server bodies of the same size.
    const list = await fetch(sb.url + path, { headers: auth });
    const listText = await list.text();
    if (list.status !== 200) throw new Error(`list answered ${list.status}: ${listText}`);
    const created = await fetch(sb.url + path, { method: 'POST', headers: json, body: createBody() });
    const createdText = await created.text();
    if (created.status !== 201) throw new Error(`create answered ${created.status}: ${createdText}`);
    // The list is measured after this one create: pad nothing, the bare body is the real list.
    const listNow = await (await fetch(sb.url + path, { headers: auth })).text();

    const healthText = await (await fetch(sb.url + '/healthz')).text();
    bare = await startServer('bare', { BARE_BODY: listNow, BARE_POST_BODY: createdText, BARE_POST_STATUS: '201' });
    bareHealth = await startServer('bare', { BARE_BODY: healthText });

    const rows: Row[] = [];
    const pair = async (name: string, o: Partial<LoadOptions>, where = { bare: bare!.url + path, sb: sb.url + path }) => {
      process.stderr.write(`  ${name}: bare and switchboard, alternating...\n`);
      const c = await compare({ url: where.bare, connections: CONNECTIONS, ...o }, { url: where.sb, connections: CONNECTIONS, ...o });
      const base: Row = { name, server: 'bare', connections: CONNECTIONS, ...c.baseline };
      const subject: Row = {
        name,
        server: 'switchboard',
        connections: CONNECTIONS,
        ...c.subject,
        baseline: `${name} on bare`,
        ratio: c.ratio,
        ratioRange: [Math.min(...c.sliceRatios), Math.max(...c.sliceRatios)],
      };
      rows.push(base, subject);
      return subject;
    };

    // Latency below saturation: the same requests at a fixed rate well under what both servers
    // sustain. At 32 saturating connections p99 is mostly queueing, which says little.
    const paced = async (name: string, o: Partial<LoadOptions>) => {
      process.stderr.write(`  ${name} at ${PACED_RATE}/s: switchboard...\n`);
      const r = await load({ url: sb.url + path, connections: PACED_CONNECTIONS, rate: PACED_RATE, ...o });
      const row: Row = { name: `${name} @ ${PACED_RATE}/s`, server: 'switchboard', connections: PACED_CONNECTIONS, ...r };
      rows.push(row);
      return row;
    };
    const sbList = await pair('list channels (GET)', { headers: auth });
    // Paced right away: the create runs below add thousands of channels to this instance's list.
    const pacedList = await paced('list channels (GET)', { headers: auth });
    const sbCreate = await pair('create channel (POST)', { method: 'POST', headers: json, bodyFor: createBody });
    const pacedCreate = await paced('create channel (POST)', { method: 'POST', headers: json, bodyFor: createBody });
    // The framework floor: a public route with no store access and a tiny body. What list loses
    // beyond this ratio is the route's own work (auth lookup, queries, serialisation).
    const sbHealth = await pair('health (GET /healthz)', {}, { bare: bareHealth!.url + '/healthz', sb: sb.url + '/healthz' });


    const ratio = sbList.ratio ?? 0;
    const bareP99 = (name: string) => rows.find((r) => r.name === name && r.server === 'bare')!.p99.toFixed(2);
    return {
      name: 'api',
      description: `Channels API at ${CONNECTIONS} connections, SQLite, LOG_LEVEL=${process.env.LOG_LEVEL ?? 'warn'}, stored operator key (X-Api-Key).`,
      rows,
      aims: [
        { aim: `list req/s >= ${LIST_RATIO_AIM}x bare`, measured: `${ratio.toFixed(2)}x`, holds: ratio >= LIST_RATIO_AIM && sbList.errors === 0 && sbList.non2xx === 0 },
        { aim: `list p99 < ${P99_AIM_MS} ms at ${PACED_RATE} req/s`, measured: `${pacedList.p99.toFixed(2)} ms (saturated: ${sbList.p99.toFixed(2)} ms; bare saturated: ${bareP99(sbList.name)} ms)`, holds: pacedList.p99 < P99_AIM_MS && pacedList.non2xx === 0 },
        { aim: `create p99 < ${P99_AIM_MS} ms at ${PACED_RATE} req/s`, measured: `${pacedCreate.p99.toFixed(2)} ms (saturated: ${sbCreate.p99.toFixed(2)} ms; bare saturated: ${bareP99(sbCreate.name)} ms)`, holds: pacedCreate.p99 < P99_AIM_MS && pacedCreate.errors === 0 && pacedCreate.non2xx === 0 },
      ],
      notes: [
        `list response ${Buffer.byteLength(listNow)} bytes (11 channels), create response ${Buffer.byteLength(createdText)} bytes; the bare server answers the same bodies.`,
        `create made ${sbCreate.total.toLocaleString('en-US')} inserts (measured) into one instance after the list run.`,
        `health is the framework floor (Fastify, hooks, metrics; no auth, no store): ${(sbHealth.ratio ?? 0).toFixed(2)}x bare.`,
        'at 32 connections every server is saturated, so p50/p99 mostly measure queueing (about connections / req/s), not the time one request takes.',
        'bare and switchboard are measured in alternating slices; "vs bare" is the ratio over all slices, with the lowest and highest slice ratio in brackets.',
      ],
    };
  } finally {
    await Promise.all([sb.stop(), bare?.stop(), bareHealth?.stop()]);
  }
}
