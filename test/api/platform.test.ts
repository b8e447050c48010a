/** Health, readiness, metrics, the OpenAPI document and the offline docs UI. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.js';

describe('platform endpoints', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer('sqlite');
  });
  after(() => s.close());

  test('healthz and readyz', async () => {
    assert.deepEqual((await s.api('GET', '/healthz', undefined, null)).body, { status: 'ok' });
    const r = await s.api('GET', '/readyz', undefined, null);
    assert.equal(r.status, 200);
    assert.equal(r.body.store, 'sqlite');
  });

  test('metrics count requests by route template and status', async () => {
    await s.api('GET', '/v1/instances');
    await s.api('GET', '/v1/instances', undefined, null);
    const m = await s.api('GET', '/metrics', undefined, null);
    assert.equal(m.status, 200);
    assert.match(m.headers.get('content-type') ?? '', /text\/plain/);
    assert.match(m.text, /switchboard_http_requests_total\{method="GET",route="\/v1\/instances",status="200"\} 1/);
    assert.match(m.text, /switchboard_http_requests_total\{method="GET",route="\/v1\/instances",status="401"\} 1/);
  });

  test('with SWITCHBOARD_METRICS_TOKEN set, /metrics needs that bearer token', async () => {
    const locked = await startServer('sqlite', { env: { SWITCHBOARD_METRICS_TOKEN: 'scrape-me-7f3a' } });
    try {
      const none = await locked.api('GET', '/metrics', undefined, null);
      assert.equal(none.status, 401);
      assert.deepEqual(none.body, { detail: 'Metrics need the bearer token set in SWITCHBOARD_METRICS_TOKEN' });
      const wrong = await fetch(`${locked.url}/metrics`, { headers: { authorization: 'Bearer scrape-me-7f3b' } });
      assert.equal(wrong.status, 401);
      const apiKey = await fetch(`${locked.url}/metrics`, { headers: { 'x-api-key': locked.adminKey } });
      assert.equal(apiKey.status, 401, 'an API key is not the metrics token');
      const ok = await fetch(`${locked.url}/metrics`, { headers: { authorization: 'Bearer scrape-me-7f3a' } });
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /switchboard_http_requests_total/);
    } finally {
      await locked.close();
    }
  });

  test('the OpenAPI document describes the seed routes as they behave', async () => {
    const doc = (await s.api('GET', '/openapi.json', undefined, null)).body;
    assert.equal(doc.openapi, '3.1.0');
    const create = doc.paths['/v1/instances/{instance_id}/channels'].post;
    assert.equal(create.summary, 'Create Channel Endpoint');
    const body = create.requestBody.content['application/json'].schema;
    assert.deepEqual(body.required.sort(), ['channel_type', 'external_identifier', 'provider']);
    assert.deepEqual(body.properties.channel_type.enum, ['telegram', 'whatsapp', 'voice', 'sms', 'email', 'web_chat']);
    assert.equal(body.properties.external_identifier.maxLength, 255);
    assert.equal(body.properties.provider.maxLength, 50);
    assert.equal(body.properties.enabled.default, true);
    assert.ok(create.responses['201'] && create.responses['422']);
    const resp = create.responses['201'].content['application/json'].schema;
    assert.ok(!('webhook_secret' in resp.properties) && !('credential_id' in resp.properties));
    assert.ok(doc.paths['/v1/instances/{instance_id}/channels/{endpoint_id}'].patch);
    assert.ok(doc.paths['/v1/instances/{instance_id}/channels/{endpoint_id}'].delete.responses['204']);
    assert.deepEqual(Object.keys(doc.components.securitySchemes).sort(), ['apiKey', 'bearer']);
  });

  test('the docs UI is served from bundled assets (no CDN)', async () => {
    const page = await fetch(`${s.url}/docs/`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /swagger/i);
    assert.ok(!/https?:\/\/(?!127\.0\.0\.1)[^"']*\.(js|css)/.test(html), 'no external script or style');
    const js = await fetch(`${s.url}/docs/static/swagger-ui-bundle.js`);
    assert.equal(js.status, 200);
    // Read to the end: an unread megabyte keeps the response (and the server's close) waiting.
    assert.ok((await js.arrayBuffer()).byteLength > 100_000, 'the bundled Swagger UI script');
  });
});
