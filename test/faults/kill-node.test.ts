/**
 * Fault: kill -9 a node, again and again, under a steady webhook load sent to both nodes (a
 * connection error retries on the other node, as a load balancer does). Each killed node is
 * started again before the next kill, the nodes taking turns. Jobs the killed node had leased run
 * again on the other node once their lease runs out, under the same webhook-id. Every acknowledged
 * update reaches the agent once per webhook-id, in order per conversation. PostgreSQL only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withCluster } from '../helpers/cluster.js';
import { startFakeAgent } from '../inbound/fake-agent.js';
import { FAULT_SCHEDULE, NODE_ENV, PG_URL, SKIP_WITHOUT_PG, expectDelivered, type Load, setUp, startLoad } from './harness.js';

const KILLS = 3;

test('kill -9 one node repeatedly under load: every acknowledged update delivered, once per webhook-id, in order', { skip: SKIP_WITHOUT_PG, timeout: 420_000 }, async () => {
  await withCluster(PG_URL!, { prefix: 'fkill', deliverySchedule: FAULT_SCHEDULE, database: true, env: NODE_ENV }, async (cluster) => {
    const agent = await startFakeAgent();
    let load: Load | undefined;
    // A short pause per delivery keeps jobs in flight, so kills land mid-delivery too.
    agent.script = () => ({ status: 200, json: {}, delayMs: 15 });
    try {
      const bases = [await cluster.node(0), await cluster.node(1)];
      const setup = await setUp(cluster, bases[0], agent);
      load = startLoad({ targets: () => bases, setup });
      await load.progress(30);
      for (let kill = 0; kill < KILLS; kill++) {
        const victim = kill % 2;
        await cluster.kill(victim);
        // The survivor carries the load while the victim starts again (a new port).
        await load.progress(10);
        bases[victim] = await cluster.node(victim);
        await load.progress(20);
      }
      await load.stop();
      const outcome = await expectDelivered(cluster, agent, load, setup);
      assert.ok(cluster.alive(0) && cluster.alive(1), 'both nodes are running');
      assert.ok(outcome.acked > 100, 'there was real load');
      console.log('# fault kill-node ' + JSON.stringify({ kills: KILLS, ...outcome }));
    } finally {
      load?.abort();
      await agent.close();
    }
  });
});
