/**
 * Fault: PostgreSQL stops (`pg_ctl stop -m fast`: every session terminated) in the middle of a
 * webhook load and comes back a few seconds later. Runs on a private PostgreSQL server started for
 * this test (the shared one serves other tests). While it is down, webhooks to either node get 503
 * with Retry-After (never a 2xx without a commit, never a 500); both nodes stay up, reconnect and
 * LISTEN again by themselves; the backlog drains and nothing acknowledged is lost; an SSE event
 * stream open on a node stays open and reads every event once. A node started while the server is
 * down waits for it and serves once it is back. PostgreSQL
 * only (TEST_DATABASE_URL set, and its binaries installed).
 */
import { test } from 'node:test';
import { createServer } from 'node:net';
import assert from 'node:assert/strict';
import { withCluster } from '../helpers/cluster.js';
import { startFakeAgent } from '../inbound/fake-agent.js';
import { FAULT_SCHEDULE, NODE_ENV, PG_URL, SKIP_WITHOUT_PG, expectDelivered, expectStreamedAll, openEventStream, type EventStream, type Load, listening, post, setUp, sleep, startLoad, telegramUpdate, waitFor } from './harness.js';
import { postgresBin, startPrivatePostgres } from './private-postgres.js';

const skip = SKIP_WITHOUT_PG || (postgresBin() ? false : 'no PostgreSQL binaries (initdb, pg_ctl) found to start a private server');

test('PostgreSQL restarted under load: 503 with Retry-After while it is down, nodes reconnect and re-LISTEN, nothing acknowledged is lost', { skip, timeout: 420_000 }, async () => {
  const server = await startPrivatePostgres();
  try {
    await withCluster(server.url, { prefix: 'frestart', deliverySchedule: FAULT_SCHEDULE, database: true, env: NODE_ENV }, async (cluster) => {
      const agent = await startFakeAgent();
      let load: Load | undefined;
      let stream: EventStream | undefined;
      try {
        const bases = [await cluster.node(0), await cluster.node(1)];
        const setup = await setUp(cluster, bases[0], agent);
        await waitFor('both nodes LISTENing', async () => (await listening(cluster, 0)) && (await listening(cluster, 1)));
        // An SSE reader on node 1: its stream must outlive the restart.
        const sse = await openEventStream(bases[1], cluster.adminKey, setup.instanceId);
        stream = sse;
        load = startLoad({ targets: () => bases, setup });
        await load.progress(40);

        server.stop();
        // While the server is down, each node answers a new update with 503 and Retry-After.
        const headers = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': setup.secret };
        const probes = [telegramUpdate(50, 1), telegramUpdate(51, 1)];
        for (const [i, base] of bases.entries()) {
          const r = await post(base + setup.path, headers, probes[i]);
          assert.equal(r.status, 503, `node ${i} during the outage: ${r.status} ${r.text}`);
          assert.ok(Number(r.headers['retry-after']) >= 1, 'Retry-After tells the provider when to come back');
          assert.match(r.text, /database is unavailable/);
        }
        // A few seconds of outage under load (scheduling the fault, not asserting on time).
        await sleep(3_000);
        server.start();

        // The load goes on; the probes are sent again, as a provider would after a 503.
        await load.progress(40);
        for (const [i, base] of bases.entries()) {
          await waitFor(`probe ${i} acknowledged after the restart`, async () => (await post(base + setup.path, headers, probes[i])).status === 200);
        }
        await waitFor('both nodes LISTENing again', async () => (await listening(cluster, 0)) && (await listening(cluster, 1)), 90_000, 250);
        await load.stop();
        const outcome = await expectDelivered(cluster, agent, load, setup, { extra: ['c50-1', 'c51-1'] });
        assert.ok(cluster.alive(0) && cluster.alive(1), 'both nodes survived the restart');
        await expectStreamedAll(cluster, sse, setup, 'node 1');

        // A node that starts while PostgreSQL is down waits for it instead of exiting.
        // While the server is down, a stand-in on its port reads each connection's startup
        // message and hangs up, counting node 0's (by its application_name; node 1 keeps trying
        // too): PostgreSQL comes back only once the starting node has tried more than once.
        await cluster.kill(0);
        server.stop();
        let attempts = 0;
        const standIn = createServer((sock) => {
          sock.on('error', () => undefined);
          sock.once('data', (startup: Buffer) => {
            if (startup.includes(Buffer.from(cluster.appName(0)))) attempts++;
            sock.destroy();
          });
        });
        await new Promise<void>((r) => standIn.listen(Number(new URL(server.url).port), '127.0.0.1', r));
        const starting = cluster.node(0);
        starting.catch(() => undefined); // awaited below
        try {
          await waitFor('the starting node to try the database', () => attempts >= 1, 90_000);
          await waitFor('the starting node to try the database again and again', () => attempts >= 3 || !cluster.alive(0), 90_000);
        } finally {
          await new Promise((r) => standIn.close(r));
        }
        assert.ok(cluster.alive(0), 'the starting node waits for the database instead of exiting');
        server.start();
        bases[0] = await starting;
        const late = telegramUpdate(52, 1);
        await waitFor('an update through the late-started node', async () => (await post(bases[0] + setup.path, headers, late)).status === 200);
        await waitFor('the late update at the agent', () => agent.accepted().some((d) => d.body?.data?.text === 'c52-1'));

        console.log('# fault pg-restart ' + JSON.stringify({ stream_read_retries: sse.retries, ...outcome }));
      } finally {
        load?.abort();
        stream?.close();
        await agent.close();
      }
    });
  } finally {
    server.close();
  }
});
