/**
 * `config.turns` is checked on channel create and PATCH, on every store: an unknown mode, a
 * missing mode, debounce_ms / max_wait_ms of the wrong type or out of range, and a max_wait_ms
 * below debounce_ms answer 422 in the API's Pydantic-style format, with every issue at its `loc`;
 * nothing is stored then. Valid values are stored (lax integers normalised to numbers) and read
 * back; other config keys are untouched.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.js';
import { storeKinds } from '../helpers/stores.js';

for (const kind of storeKinds()) {
  describe(`config.turns validation on ${kind}`, () => {
    let s: TestServer;
    let instanceId: string;
    let n = 0;
    const create = (config: unknown) =>
      s.api('POST', `/v1/instances/${instanceId}/channels`, { channel_type: 'web_chat', provider: 'web', external_identifier: `turns-site-${++n}`, config });
    const issues = (r: { status: number; body: any; text: string }) => {
      assert.equal(r.status, 422, r.text);
      assert.ok(Array.isArray(r.body.detail), r.text);
      return r.body.detail.map((d: any) => ({ loc: d.loc, type: d.type, msg: d.msg }));
    };

    before(async () => {
      s = await startServer(kind);
      const inst = await s.api('POST', '/v1/instances', { name: 'turns validation' });
      assert.equal(inst.status, 201, inst.text);
      instanceId = inst.body.id;
    });
    after(async () => {
      await s.close();
    });

    test('create: an unknown mode name, in either form, is a literal_error at its field', async () => {
      assert.deepEqual(issues(await create({ turns: 'bursts' })), [
        { loc: ['body', 'config', 'turns'], type: 'literal_error', msg: "Input should be 'queue', 'burst' or 'supersede'" },
      ]);
      assert.deepEqual(issues(await create({ turns: { mode: 'fast' } })), [
        { loc: ['body', 'config', 'turns', 'mode'], type: 'literal_error', msg: "Input should be 'queue', 'burst' or 'supersede'" },
      ]);
      assert.deepEqual(issues(await create({ turns: { debounce_ms: 500 } })), [{ loc: ['body', 'config', 'turns', 'mode'], type: 'missing', msg: 'Field required' }]);
      const wrong = issues(await create({ turns: 3 }));
      assert.equal(wrong.length, 1);
      assert.deepEqual(wrong[0].loc, ['body', 'config', 'turns']);
      assert.equal(wrong[0].type, 'value_error');
      assert.match(wrong[0].msg, /^Value error, turns is a mode name/);
      assert.equal(issues(await create({ turns: ['burst'] }))[0].type, 'value_error');
    });

    test('create: debounce_ms and max_wait_ms of the wrong type or out of range; every issue reported at once', async () => {
      assert.deepEqual(issues(await create({ turns: { mode: 'burst', debounce_ms: '2s', max_wait_ms: true } })), [
        { loc: ['body', 'config', 'turns', 'debounce_ms'], type: 'int_parsing', msg: 'Input should be a valid integer, unable to parse string as an integer' },
        { loc: ['body', 'config', 'turns', 'max_wait_ms'], type: 'int_type', msg: 'Input should be a valid integer' },
      ]);
      assert.deepEqual(issues(await create({ turns: { mode: 'burst', debounce_ms: -1, max_wait_ms: 600_001 } })), [
        { loc: ['body', 'config', 'turns', 'debounce_ms'], type: 'greater_than_equal', msg: 'Input should be greater than or equal to 0' },
        { loc: ['body', 'config', 'turns', 'max_wait_ms'], type: 'less_than_equal', msg: 'Input should be less than or equal to 600000' },
      ]);
      assert.deepEqual(issues(await create({ turns: { mode: 'burst', debounce_ms: 60_001 } })), [
        { loc: ['body', 'config', 'turns', 'debounce_ms'], type: 'less_than_equal', msg: 'Input should be less than or equal to 60000' },
      ]);
      assert.deepEqual(issues(await create({ turns: { mode: 'burst', debounce_ms: 1.5 } })), [
        { loc: ['body', 'config', 'turns', 'debounce_ms'], type: 'int_from_float', msg: 'Input should be a valid integer, got a number with a fractional part' },
      ]);
      assert.deepEqual(issues(await create({ turns: { mode: 'burst', debounce_ms: 5000, max_wait_ms: 1000 } })), [
        { loc: ['body', 'config', 'turns', 'max_wait_ms'], type: 'value_error', msg: 'Value error, max_wait_ms (1000) must be at least debounce_ms (5000)' },
      ]);
      // The default debounce (2000 ms) counts when only max_wait_ms is given.
      assert.equal(issues(await create({ turns: { mode: 'burst', max_wait_ms: 1500 } }))[0].msg, 'Value error, max_wait_ms (1500) must be at least debounce_ms (2000)');
      // Nothing was stored by any refused request.
      assert.equal((await s.api('GET', `/v1/instances/${instanceId}/channels`)).body.count, 0);
    });

    test('create: valid values are stored and read back, lax integers as numbers, other keys untouched', async () => {
      const burst = await create({ title: 'Shop', turns: { mode: 'burst', debounce_ms: '700', max_wait_ms: 6000 } });
      assert.equal(burst.status, 201, burst.text);
      assert.deepEqual(burst.body.config, { title: 'Shop', turns: { mode: 'burst', debounce_ms: 700, max_wait_ms: 6000 } });
      for (const turns of ['queue', 'burst', 'supersede', { mode: 'supersede' }, { mode: 'burst', debounce_ms: 0, max_wait_ms: 0 }, null]) {
        const r = await create({ turns });
        assert.equal(r.status, 201, `${JSON.stringify(turns)}: ${r.text}`);
        assert.deepEqual(r.body.config, { turns });
      }
      const listed = (await s.api('GET', `/v1/instances/${instanceId}/channels`)).body.channels as any[];
      assert.deepEqual(listed.find((c) => c.id === burst.body.id).config.turns, { mode: 'burst', debounce_ms: 700, max_wait_ms: 6000 });
    });

    test('PATCH: an invalid config.turns is a 422 and leaves the stored config; a valid one replaces it', async () => {
      const ch = await create({ title: 'Help', turns: 'queue' });
      assert.equal(ch.status, 201, ch.text);
      const url = `/v1/instances/${instanceId}/channels/${ch.body.id}`;
      assert.deepEqual(issues(await s.api('PATCH', url, { config: { title: 'Help', turns: { mode: 'burst', debounce_ms: 'soon' } } })), [
        { loc: ['body', 'config', 'turns', 'debounce_ms'], type: 'int_parsing', msg: 'Input should be a valid integer, unable to parse string as an integer' },
      ]);
      assert.deepEqual(issues(await s.api('PATCH', url, { config: { turns: 'later' } })), [
        { loc: ['body', 'config', 'turns'], type: 'literal_error', msg: "Input should be 'queue', 'burst' or 'supersede'" },
      ]);
      const stored = (await s.api('GET', `/v1/instances/${instanceId}/channels`)).body.channels.find((c: any) => c.id === ch.body.id);
      assert.deepEqual(stored.config, { title: 'Help', turns: 'queue' });
      const ok = await s.api('PATCH', url, { config: { title: 'Help', turns: { mode: 'burst', debounce_ms: 1000, max_wait_ms: '4000' } } });
      assert.equal(ok.status, 200, ok.text);
      assert.deepEqual(ok.body.config, { title: 'Help', turns: { mode: 'burst', debounce_ms: 1000, max_wait_ms: 4000 } });
      // A PATCH without config does not re-check or change it.
      const other = await s.api('PATCH', url, { enabled: false });
      assert.equal(other.status, 200, other.text);
      assert.deepEqual(other.body.config.turns, { mode: 'burst', debounce_ms: 1000, max_wait_ms: 4000 });
    });
  });
}
