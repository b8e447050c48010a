/**
 * Fault: one node's connections to PostgreSQL are cut (pg_terminate_backend on every session with
 * that node's application_name, its pool and its LISTEN connection), again and again for a few
 * seconds, under a steady webhook load to both nodes; then left alone. Requests that lose their
 * connection get 503 with Retry-After (never a 500), the node stays up, opens fresh connections,
 * LISTENs again by itself, and every acknowledged update reaches the agent once per webhook-id, in
 * order per conversation. An SSE event stream open on that node stays open throughout and reads
 * every event once. PostgreSQL only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withCluster } from '../helpers/cluster.js';
import { startFakeAgent } from '../inbound/fake-agent.js';
import { FAULT_SCHEDULE, NODE_ENV, PG_URL, SKIP_WITHOUT_PG, expectDelivered, listening, openEventStream, expectStreamedAll, type EventStream, setUp, sleep, startLoad, waitFor, type Load } from './harness.js';

/** How long the cutting goes on (scheduling the fault, not asserting on time). */
const CUTTING_MS = 4_000;

test("a node's PostgreSQL connections cut and restored under load: 503s at worst, the node reconnects and re-LISTENs, nothing acknowledged is lost", { skip: SKIP_WITHOUT_PG, timeout: 420_000 }, async () => {
  await withCluster(PG_URL!, { prefix: 'fcut', deliverySchedule: FAULT_SCHEDULE, database: true, env: NODE_ENV }, async (cluster) => {
    const agent = await startFakeAgent();
    agent.script = () => ({ status: 200, json: {}, delayMs: 10 });
    let load: Load | undefined;
    let stream: EventStream | undefined;
    try {
      const bases = [await cluster.node(0), await cluster.node(1)];
      const setup = await setUp(cluster, bases[0], agent);
      await waitFor('node 0 LISTENing', () => listening(cluster, 0));
      // An SSE reader on the node whose connections are cut: its stream must survive.
      stream = await openEventStream(bases[0], cluster.adminKey, setup.instanceId);
      load = startLoad({ targets: () => bases, setup });
      await load.progress(30);

      let terminated = 0;
      const end = Date.now() + CUTTING_MS;
      while (Date.now() < end) {
        const r = await cluster.admin.query(`select count(*) filter (where pg_terminate_backend(pid))::int as n from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()`, [cluster.appName(0)]);
        terminated += r.rows[0].n;
        await sleep(200);
      }
      assert.ok(terminated > 0, 'sessions of node 0 were terminated');

      await load.progress(40);
      await waitFor('node 0 LISTENing again', () => listening(cluster, 0), 90_000, 250);
      await load.stop();
      const outcome = await expectDelivered(cluster, agent, load, setup);
      assert.ok(cluster.alive(0) && cluster.alive(1), 'both nodes are running');
      await expectStreamedAll(cluster, stream, setup, 'node 0');
      console.log('# fault connections-cut ' + JSON.stringify({ terminated_sessions: terminated, stream_read_retries: stream.retries, ...outcome }));
    } finally {
      load?.abort();
      stream?.close();
      await agent.close();
    }
  });
});
