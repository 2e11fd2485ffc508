// getSchema and getData: what is posted where, with which headers, and that answers come back
// untouched.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const {loadConnector, respond, plain} = require('./sandbox');

const BASE = 'https://connect.ondigital.example/';
const KEY = 'odc_k1a2b3_s3cr3tpart';
const SCHEMA = [
  {name: 'date', label: 'Date', dataType: 'STRING',
    semantics: {conceptType: 'DIMENSION', semanticType: 'YEAR_MONTH_DAY'}},
  {name: 'revenue', label: 'Revenue', dataType: 'NUMBER', group: 'Sales',
    semantics: {conceptType: 'METRIC', semanticType: 'CURRENCY_SEK', isReaggregatable: true}},
  {name: 'orders', label: 'Orders', dataType: 'NUMBER',
    semantics: {conceptType: 'METRIC', semanticType: 'NUMBER', isReaggregatable: true}},
];
/** A getData request as Looker Studio sends it, with the awkward parts in it. */
const DATA_REQUEST = {
  configParams: {connector: 'control_tower', extra: 'kept'},
  scriptParams: {lastRefresh: '1700000000000', sampleExtraction: false},
  dateRange: {startDate: '2026-02-01', endDate: '2026-02-28'},
  fields: [{name: 'date'}, {name: 'revenue'}, {name: 'market', forFilterOnly: true}],
  dimensionsFilters: [[
    {fieldName: 'market', values: ['SE', 'Göteborg "central"', '€ \u2028 \\'],
      type: 'INCLUDE', operator: 'IN_LIST'},
  ], [{fieldName: 'market', values: ['^N.*$'], type: 'EXCLUDE',
    operator: 'REGEXP_EXACT_MATCH'}]],
};
const DATA_ANSWER = {schema: SCHEMA.slice(0, 2), filtersApplied: true, rows: [
  {values: ['20260201', '162.00']}, {values: ['20260202', '0.10']},
  {values: ['20260203', 9007199254740991]}]};

/** A connector with a stored key; the service answers with `answer` (or calls it). */
function connector(answer, options = {}) {
  const {script = {}, ...rest} = options;
  return loadConnector({scriptProperties: {SERVICE_URL: BASE, ...script},
    userProperties: {'dscc.key': KEY}, identityToken: 'eyJ.identity.token',
    transport: typeof answer === 'function' ? answer : () => answer, ...rest});
}

test('getSchema posts the config to the chosen connector and returns its fields as sent', () => {
  const sb = connector(respond(200, {schema: SCHEMA}));
  const out = sb.run('getSchema', {configParams: {connector: 'control_tower'}});
  assert.deepEqual(out.result, {schema: SCHEMA});
  const [call] = sb.fetches;
  assert.equal(call.method, 'POST');
  assert.equal(call.url, 'https://connect.ondigital.example/v1/connectors/control_tower/schema');
  assert.equal(call.payload, '{"configParams":{"connector":"control_tower"}}');
  assert.equal(call.headers['Content-Type'], 'application/json; charset=utf-8');
  assert.equal(call.headers.Authorization, `Bearer ${KEY}`);
});

test('getData posts the request byte for byte as Looker Studio sent it', () => {
  const sb = connector(respond(200, DATA_ANSWER));
  const request = JSON.parse(JSON.stringify(DATA_REQUEST));
  sb.run('getData', request);
  const [call] = sb.fetches;
  assert.equal(call.method, 'POST');
  assert.equal(call.url, 'https://connect.ondigital.example/v1/connectors/control_tower/data');
  assert.equal(call.payload, JSON.stringify(DATA_REQUEST));
  assert.deepEqual(request, DATA_REQUEST, 'the request object itself is not modified');
});

test('getData returns schema, rows and filtersApplied unchanged (decimal strings stay strings)',
    () => {
      const sb = connector(respond(200, JSON.stringify(DATA_ANSWER)));
      const out = plain(sb.globals.getData(DATA_REQUEST));
      assert.deepEqual(out, JSON.parse(JSON.stringify(DATA_ANSWER)));
      assert.equal(typeof out.rows[0].values[1], 'string');
    });

test('getData reports filtersApplied false unless the service says true', () => {
  for (const flag of [undefined, false, 'true', 1]) {
    const sb = connector(respond(200, {schema: [], rows: [], filtersApplied: flag}));
    assert.equal(sb.run('getData', DATA_REQUEST).result.filtersApplied, false);
  }
});

test('a fixed CONNECTOR wins over configParams.connector', () => {
  const sb = connector(respond(200, {schema: SCHEMA}), {script: {CONNECTOR: 'shopify'}});
  sb.run('getSchema', {configParams: {connector: 'control_tower'}});
  sb.run('getData', DATA_REQUEST);
  assert.deepEqual(sb.fetches.map((f) => f.url.replace(/^.*\/v1/, '/v1')),
      ['/v1/connectors/shopify/schema', '/v1/connectors/shopify/data']);
  assert.equal(sb.fetches[1].payload, JSON.stringify(DATA_REQUEST), 'still unchanged');
});

test('without a chosen connector getSchema and getData stop before any request', () => {
  const sb = connector(() => assert.fail('no request expected'));
  for (const [name, request] of [['getSchema', {configParams: {}}], ['getSchema', {}],
    ['getData', {fields: []}], ['getData', {configParams: {connector: '  '}}]]) {
    const out = sb.run(name, request);
    assert.equal(out.error.userError, true, name);
    assert.match(out.error.text, /No Ondigital connector is chosen/);
  }
  assert.equal(sb.fetches.length, 0);
});

test('the connector id is URL-encoded into the path', () => {
  const sb = connector(respond(200, {schema: []}));
  sb.run('getSchema', {configParams: {connector: '../admin?x=1'}});
  assert.equal(sb.fetches[0].url,
      'https://connect.ondigital.example/v1/connectors/..%2Fadmin%3Fx%3D1/schema');
});

test('SERVICE_URL with or without trailing slashes gives the same URLs', () => {
  for (const url of ['https://connect.ondigital.example', 'https://connect.ondigital.example//',
    ' https://connect.ondigital.example/ ']) {
    const sb = connector(respond(200, {schema: []}), {script: {SERVICE_URL: url}});
    sb.run('getSchema', {configParams: {connector: 'shopify'}});
    assert.equal(sb.fetches[0].url, 'https://connect.ondigital.example/v1/connectors/shopify/schema');
  }
});

test('a SERVICE_URL with a path prefix keeps it', () => {
  const sb = connector(respond(200, {schema: []}),
      {script: {SERVICE_URL: 'https://api.ondigital.example/connect/'}});
  sb.run('getSchema', {configParams: {connector: 'shopify'}});
  assert.equal(sb.fetches[0].url, 'https://api.ondigital.example/connect/v1/connectors/shopify/schema');
});

test('the identity token is sent in X-Identity-Token when available', () => {
  const sb = connector(respond(200, {schema: []}));
  sb.run('getSchema', {configParams: {connector: 'shopify'}});
  assert.equal(sb.fetches[0].headers['X-Identity-Token'], 'eyJ.identity.token');
  assert.equal(sb.fetches[0].headers.Authorization, `Bearer ${KEY}`);
});

test('no X-Identity-Token when there is none, when disabled, or when getting it throws', () => {
  const cases = [
    connector(respond(200, {schema: []}), {identityToken: null}),
    connector(respond(200, {schema: []}), {identityToken: ''}),
    connector(respond(200, {schema: []}), {script: {SEND_IDENTITY_TOKEN: 'False'}}),
  ];
  const throwing = connector(respond(200, {schema: []}));
  throwing.globals.ScriptApp = {getIdentityToken() { throw new Error('openid not granted'); }};
  for (const sb of [...cases, throwing]) {
    assert.equal(sb.run('getSchema', {configParams: {connector: 'shopify'}}).ok, true);
    assert.equal('X-Identity-Token' in sb.fetches[0].headers, false);
    assert.equal(sb.fetches[0].headers.Authorization, `Bearer ${KEY}`);
  }
});

test('every request mutes HTTP exceptions and does not follow redirects', () => {
  const sb = connector((req) => (req.url.endsWith('/v1/connectors') ?
    respond(200, {tenant: 'a', connectors: [{id: 'shopify'}]}) :
    respond(200, {schema: [], rows: []})));
  sb.run('setCredentials', {key: KEY});
  sb.run('getConfig', {});
  sb.run('getSchema', {configParams: {connector: 'shopify'}});
  sb.run('getData', {configParams: {connector: 'shopify'}, fields: []});
  assert.equal(sb.fetches.length, 4);
  for (const call of sb.fetches) {
    assert.equal(call.params.muteHttpExceptions, true);
    assert.equal(call.params.followRedirects, false);
    assert.equal(call.headers.Accept, 'application/json');
  }
});

test('answers without the expected lists stop with the unreadable-answer user error', () => {
  const bad = [['getSchema', {}], ['getSchema', {schema: {}}], ['getData', {schema: []}],
    ['getData', {rows: []}], ['getData', [1, 2]], ['getData', 'null']];
  for (const [name, body] of bad) {
    const out = connector(respond(200, body)).run(name, DATA_REQUEST);
    assert.equal(out.error.userError, true, `${name} ${JSON.stringify(body)}`);
    assert.match(out.error.text, /cannot read/);
  }
});

test('a getData without a key still calls (the service answers 401), sending no Authorization',
    () => {
      const sb = loadConnector({scriptProperties: {SERVICE_URL: BASE},
        transport: () => respond(401, {error: 'unauthorized', message: 'an API key is required'})});
      const out = sb.run('getData', DATA_REQUEST);
      assert.equal('Authorization' in sb.fetches[0].headers, false);
      assert.match(out.error.text, /did not accept your API key/);
    });
