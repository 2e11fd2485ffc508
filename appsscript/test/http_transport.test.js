// The real-HTTP transport against a loopback stand-in of the service: headers and bodies on
// the wire, status codes, redirects, network failure, and the connector end to end over it.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const {loadConnector} = require('./sandbox');
const {realHttpTransport} = require('./http_transport');
const {startLoopbackService, SCHEMA} = require('./loopback_service');

const KEY = 'odc_test_good';
const transport = realHttpTransport({timeoutMs: 10000});

/** A connector over real HTTP to `url`. */
function connector(url, options = {}) {
  return loadConnector({scriptProperties: {SERVICE_URL: `${url}/`}, transport,
    userProperties: {'dscc.key': KEY}, identityToken: null, ...options});
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const {port} = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('the connector over real HTTP: config, schema, data; bodies arrive byte for byte',
    async (t) => {
      const service = await startLoopbackService();
      t.after(() => service.close());
      const sb = connector(service.url, {identityToken: 'eyJ.tok'});
      const config = sb.run('getConfig', {languageCode: 'en'});
      assert.deepEqual(config.result.configParams[0].options.map((o) => o.value),
          ['control_tower', 'shopify']);
      assert.deepEqual(sb.run('getSchema', {configParams: {connector: 'control_tower'}}).result,
          {schema: SCHEMA});
      const request = {configParams: {connector: 'control_tower'},
        dateRange: {startDate: '2026-02-01', endDate: '2026-02-28'},
        fields: [{name: 'date'}, {name: 'revenue'}, {name: 'orders'}],
        dimensionsFilters: [[{fieldName: 'market', values: ['Göteborg', '€'],
          type: 'INCLUDE', operator: 'IN_LIST'}]]};
      const data = sb.run('getData', request);
      assert.deepEqual(data.result.rows, [{values: ['20260201', '162.00', 4]}]);

      const received = await service.requests();
      assert.deepEqual(received.map((r) => `${r.method} ${r.path}`), ['GET /v1/connectors',
        'POST /v1/connectors/control_tower/schema', 'POST /v1/connectors/control_tower/data']);
      const post = received[2];
      assert.equal(post.body, JSON.stringify(request));
      assert.equal(post.headers.authorization, `Bearer ${KEY}`);
      assert.equal(post.headers['x-identity-token'], 'eyJ.tok');
      assert.equal(post.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(post.headers['user-agent'], 'Mozilla/5.0 (compatible; Google-Apps-Script)');
      assert.equal(received[0].headers['x-identity-token'], 'eyJ.tok');
      assert.equal(received[0].body, '');
    });

test('error statuses, headers and bodies come back over real HTTP', async (t) => {
  const service = await startLoopbackService({routes: {
    'POST /v1/connectors/control_tower/data': {status: 429, headers: {'Retry-After': '9',
      'Content-Type': 'application/json'}, body: {error: 'rate_limited', message: 'slow'}},
    'POST /v1/connectors/shopify/data': {status: 302, headers: {Location: '/v1/connectors'},
      body: ''},
  }});
  t.after(() => service.close());
  const sb = connector(service.url);
  const limited = sb.run('getData', {configParams: {connector: 'control_tower'}, fields: []});
  assert.equal(limited.error.text,
      'Too many requests to Ondigital right now. Wait 9 seconds and refresh the report.');
  const redirected = sb.run('getData', {configParams: {connector: 'shopify'}, fields: []});
  assert.match(redirected.error.text, /unexpected way \(HTTP 302\)/, 'redirect not followed');
  const refused = connector(service.url, {userProperties: {'dscc.key': 'odc_wrong'}})
      .run('getSchema', {configParams: {connector: 'control_tower'}});
  assert.match(refused.error.text, /did not accept your API key \(invalid or revoked API key\)/);
  const missing = sb.run('getSchema', {configParams: {connector: 'nope'}});
  assert.match(missing.error.text, /not available \(unknown connector 'nope'\)/);
});

test('non-ASCII answers arrive intact over real HTTP (UTF-8, with or without a charset)',
    async (t) => {
      const schema = [{name: 'market', label: 'Marknad – Göteborg ✓', dataType: 'STRING',
        semantics: {conceptType: 'DIMENSION', semanticType: 'TEXT'}}];
      const service = await startLoopbackService({routes: {
        'POST /v1/connectors/shopify/schema': {status: 200,
          headers: {'Content-Type': 'application/json'}, body: {schema}},
        'POST /v1/connectors/control_tower/schema': {status: 200,
          headers: {'Content-Type': 'application/json; charset=utf-8'}, body: {schema}},
      }});
      t.after(() => service.close());
      const sb = connector(service.url);
      for (const id of ['shopify', 'control_tower']) {
        assert.deepEqual(sb.run('getSchema', {configParams: {connector: id}}).result, {schema});
      }
    });

test('setCredentials over real HTTP: a good key is stored, a bad one is not', async (t) => {
  const service = await startLoopbackService();
  t.after(() => service.close());
  const sb = connector(service.url, {userProperties: {}});
  assert.equal(sb.run('setCredentials', {key: 'odc_bad'}).result.errorCode, 'INVALID_CREDENTIALS');
  assert.equal(sb.run('isAuthValid').result, false);
  assert.equal(sb.run('setCredentials', {key: KEY}).result.errorCode, 'NONE');
  assert.equal(sb.run('isAuthValid').result, true);
});

test('nothing listening: the connector says the service could not be reached', async () => {
  const url = `http://127.0.0.1:${await closedPort()}`;
  const out = connector(url).run('getConfig', {});
  assert.equal(out.error.text,
      'The Ondigital service could not be reached. Try again in a few minutes.');
  assert.match(out.error.debugText, /ECONNREFUSED/);
});

test('the transport itself: a raw request and answer', async (t) => {
  const service = await startLoopbackService({routes: {'PUT /echo': {status: 201,
    headers: {'X-Thing': 'yes'}, body: 'plain text ✓'}}});
  t.after(() => service.close());
  const answer = transport({url: `${service.url}/echo`, method: 'PUT',
    headers: {'Content-Type': 'text/plain'}, payload: 'ö', followRedirects: false});
  assert.equal(answer.status, 201);
  assert.equal(answer.body, 'plain text ✓');
  assert.equal(answer.headers['x-thing'], 'yes');
  const [received] = await service.requests();
  assert.equal(received.body, 'ö');
  assert.equal(received.headers['content-length'], '2', 'UTF-8 on the wire');
});
