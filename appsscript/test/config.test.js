// getConfig: the connector select from GET /v1/connectors, or a fixed CONNECTOR; the options
// hook; a required date range.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const {loadConnector, respond} = require('./sandbox');

const BASE = 'https://connect.ondigital.example/';
const KEY = 'odc_k1a2b3_s3cr3tpart';
const LISTING = {tenant: 'alpha', connectors: [
  {id: 'control_tower', label: 'Control tower', description: 'Every KPI', plan: 'pro',
    current_period_end: '2099-12-31'},
  {id: 'shopify', label: 'Shopify orders', description: 'Orders', plan: 'starter',
    current_period_end: '2099-12-31'},
]};

/** A connector with a stored key whose service answers `answer` (or calls it). */
function connector(answer, script = {}) {
  return loadConnector({scriptProperties: {SERVICE_URL: BASE, ...script},
    userProperties: {'dscc.key': KEY},
    transport: typeof answer === 'function' ? answer : () => answer});
}

test('getConfig offers the connectors the key may use and requires a date range', () => {
  const sb = connector(respond(200, LISTING));
  const out = sb.run('getConfig', {languageCode: 'sv'});
  assert.deepEqual(out.result, {
    configParams: [{
      type: 'SELECT_SINGLE', name: 'connector', displayName: 'Connector',
      helpText: 'Which Ondigital data this data source reads. Only the connectors your ' +
        'subscription covers are listed.',
      options: [{label: 'Control tower (pro plan)', value: 'control_tower'},
        {label: 'Shopify orders (starter plan)', value: 'shopify'}],
    }],
    dateRangeRequired: true,
  });
  assert.equal(sb.fetches.length, 1);
  assert.equal(sb.fetches[0].method, 'GET');
  assert.equal(sb.fetches[0].url, 'https://connect.ondigital.example/v1/connectors');
  assert.equal(sb.fetches[0].headers.Authorization, `Bearer ${KEY}`);
});

test('getConfig with a fixed CONNECTOR asks nothing and calls nothing', () => {
  const sb = connector(() => assert.fail('no request expected'), {CONNECTOR: 'control_tower'});
  const out = sb.run('getConfig', {languageCode: 'en'});
  assert.deepEqual(out.result, {
    configParams: [{type: 'INFO', name: 'connector_info',
      text: 'This data source reads the "control_tower" data of your Ondigital account.'}],
    dateRangeRequired: true,
  });
  assert.equal(sb.fetches.length, 0);
});

test('getConfig skips listed items without an id and cleans labels', () => {
  const sb = connector(respond(200, {tenant: 'alpha', connectors: [
    {label: 'no id'}, null, {id: 'shopify', label: 'Shop\u0000ify\n orders', plan: ''},
    {id: 'inventory'}]}));
  const [select] = sb.run('getConfig', {}).result.configParams;
  assert.deepEqual(select.options, [{label: 'Shop ify orders', value: 'shopify'},
    {label: 'inventory', value: 'inventory'}]);
});

test('getConfig for a key without subscriptions stops with a user error', () => {
  const out = connector(respond(200, {tenant: 'alpha', connectors: []})).run('getConfig', {});
  assert.equal(out.error.userError, true);
  assert.match(out.error.text, /no active subscription/);
  assert.match(out.error.debugText, /tenant alpha/);
});

test('getConfig maps a refused key to the invalid-key user error', () => {
  const out = connector(respond(401, {error: 'unauthorized',
    message: 'invalid or revoked API key'})).run('getConfig', {});
  assert.match(out.error.text, /^Ondigital did not accept your API key \(invalid or revoked/);
});

test('the options hook: a connector declaring options makes the choice come first', () => {
  const sb = connector(respond(200, LISTING));
  sb.globals.CONNECTOR_OPTIONS_ = {shopify: [{id: 'store', name: 'Store',
    helpText: 'Which shop', placeholder: 'my-shop'}]};
  const first = sb.run('getConfig', {languageCode: 'en'}).result;
  assert.equal(first.isSteppedConfig, true);
  assert.equal(first.configParams[0].isDynamic, true);
  assert.equal(first.configParams.length, 1);

  const second = sb.run('getConfig', {languageCode: 'en',
    configParams: {connector: 'shopify'}}).result;
  assert.equal(second.isSteppedConfig, undefined);
  assert.deepEqual(second.configParams[1], {type: 'TEXTINPUT', name: 'store',
    displayName: 'Store', helpText: 'Which shop', placeholder: 'my-shop'});

  const other = sb.run('getConfig', {configParams: {connector: 'control_tower'}}).result;
  assert.equal(other.configParams.length, 1, 'control_tower declares no options');
});

test('the options hook with a fixed CONNECTOR: its options follow the info text', () => {
  const sb = connector(() => assert.fail('no request expected'), {CONNECTOR: 'shopify'});
  sb.globals.CONNECTOR_OPTIONS_ = {shopify: [{id: 'store', name: 'Store'}]};
  const out = sb.run('getConfig', {}).result;
  assert.deepEqual(out.configParams.map((p) => p.type), ['INFO', 'TEXTINPUT']);
  assert.equal(out.isSteppedConfig, undefined);
});

test('no connector declares options today', () => {
  const sb = connector(respond(200, LISTING));
  assert.deepEqual(JSON.parse(JSON.stringify(sb.globals.CONNECTOR_OPTIONS_)), {});
});
