/** The PostgreSQL LISTEN connection comes back after it is killed, and wakes everyone once. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { Notifier, channelName } from '../../src/queue/notifier.js';
import { PG_URL } from '../helpers/stores.js';

describe('notifier on postgres', { skip: PG_URL ? false : 'TEST_DATABASE_URL is not set' }, () => {
  test('reconnects after its backend is terminated and hears notifications again', async () => {
    const schema = `n_${Date.now().toString(36)}`;
    const n = new Notifier();
    await n.listen(PG_URL, schema);
    const heard: string[] = [];
    n.on('jobs', (p) => heard.push(p));
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where query like 'LISTEN "sb_${schema}__%'`);
      // After the reconnect every topic is woken once ('' payload), then live notifications flow.
      const end = Date.now() + 10_000;
      while (!heard.includes('') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      assert.ok(heard.includes(''), 'woken after reconnecting');
      const until = Date.now() + 10_000;
      while (!heard.includes('after') && Date.now() < until) {
        await admin.query('select pg_notify($1, $2)', [channelName('jobs', schema), 'after']);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(heard.includes('after'), 'a notification sent after the reconnect arrives');
    } finally {
      await admin.end();
      await n.close();
    }
  });
});
