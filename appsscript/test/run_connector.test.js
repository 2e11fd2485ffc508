// run_connector.js: the CLI the end-to-end test drives, against the loopback service.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const {spawnSync} = require('node:child_process');
const {childEnv} = require('./http_transport');
const {startLoopbackService} = require('./loopback_service');
const {runSpec} = require('./run_connector');
const {respond} = require('./sandbox');

const CLI = path.join(__dirname, 'run_connector.js');
const KEY = 'odc_test_good';

/** Run the CLI on `spec` (an object, or raw text); its exit status and parsed stdout. */
function cli(spec) {
  const input = typeof spec === 'string' ? spec : JSON.stringify(spec);
  const done = spawnSync(process.execPath, [CLI], {input, env: childEnv(), timeout: 60000});
  return {status: done.status, raw: done.stdout.toString(), out: JSON.parse(done.stdout)};
}

test('a whole session: credentials, config, schema, data, and a refused connector',
    async (t) => {
      const service = await startLoopbackService();
      t.after(() => service.close());
      const data = {configParams: {connector: 'control_tower'},
        dateRange: {startDate: '2026-02-01', endDate: '2026-02-28'},
        fields: [{name: 'date'}, {name: 'revenue'}]};
      const {status, raw, out} = cli({serviceUrl: service.url, identityToken: 'eyJ.tok',
        steps: [
          {call: 'setCredentials', request: {key: KEY}},
          {call: 'isAuthValid'},
          {call: 'getConfig', request: {languageCode: 'en'}},
          {call: 'getSchema', request: {configParams: {connector: 'control_tower'}}},
          {call: 'getData', request: data},
          {call: 'getData', request: {...data, configParams: {connector: 'inventory'}}},
        ]});
      assert.equal(status, 0);
      assert.deepEqual(out.results.map((r) => [r.call, r.ok]), [['setCredentials', true],
        ['isAuthValid', true], ['getConfig', true], ['getSchema', true], ['getData', true],
        ['getData', false]]);
      assert.deepEqual(out.results[4].result.rows, [{values: ['20260201', '162.00']}]);
      assert.equal(out.results[5].error.userError, true);
      assert.match(out.results[5].error.text, /subscription does not cover this/);
      assert.equal(out.fetches.length, 5);
      assert.equal(out.fetches[4].payload, JSON.stringify({...data,
        configParams: {connector: 'inventory'}}));
      assert.equal(out.fetches[0].headers.Authorization, '<redacted>');
      assert.equal(out.fetches[0].headers['X-Identity-Token'], '<redacted>');
      assert.ok(!raw.includes(KEY) && !raw.includes('eyJ.tok'), 'no credential on stdout');
      assert.deepEqual(out.cacheCalls, []);
      assert.equal((await service.requests()).length, 5);
    });

test('key and connector from the spec: a fixed connector, no configParams needed', async (t) => {
  const service = await startLoopbackService();
  t.after(() => service.close());
  const {status, out} = cli({serviceUrl: `${service.url}/`, key: KEY, connector: 'shopify',
    steps: [{call: 'getConfig', request: {}}, {call: 'getData', request: {fields:
      [{name: 'orders'}], dateRange: {startDate: '2026-02-01', endDate: '2026-02-01'}}}]});
  assert.equal(status, 0);
  assert.equal(out.results[0].result.configParams[0].type, 'INFO');
  assert.deepEqual(out.results[1].result.rows, [{values: [4]}]);
  assert.deepEqual((await service.requests()).map((r) => r.path),
      ['/v1/connectors/shopify/data']);
});

test('an unusable spec exits 2 with {error}', () => {
  for (const [spec, message] of [['not json', /JSON/], [{steps: []}, /serviceUrl is required/],
    [{serviceUrl: 'http://127.0.0.1:9', steps: [{call: 'eval'}]}, /unknown call "eval"/],
    [{serviceUrl: 'http://127.0.0.1:9'}, /steps must be a list/]]) {
    const {status, out} = cli(spec);
    assert.equal(status, 2);
    assert.match(out.error, message);
  }
});

test('runSpec in-process with a scripted transport (exit-status rule: user errors are fine)',
    () => {
      const out = runSpec({serviceUrl: 'https://connect.ondigital.example', key: KEY,
        scriptProperties: {ADMIN_EMAILS: 'ops@ondigital.example'}, email: 'ops@ondigital.example',
        steps: [{call: 'isAdminUser'}, {call: 'getAuthType'},
          {call: 'getSchema', request: {configParams: {connector: 'x'}}}]},
      () => respond(503, {error: 'data_unavailable', message: 'later'}));
      assert.deepEqual(out.results.map((r) => r.ok), [true, true, false]);
      assert.equal(out.results[0].result, true);
      assert.equal(out.results[2].error.userError, true);
      assert.equal(out.logs.length, 1, 'the connector logged the failure for admins');
    });
