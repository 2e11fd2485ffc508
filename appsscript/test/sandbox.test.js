// The sandbox itself: fakes behave like Apps Script's, the global scope is Apps Script's (no
// Node), and the connector's files load in any order.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const {loadConnector, connectorFiles, respond, plain, CONNECTOR_DIR} = require('./sandbox');

const ENTRY_POINTS = ['getAuthType', 'setCredentials', 'isAuthValid', 'resetAuth',
  'isAdminUser', 'getConfig', 'getSchema', 'getData'];

test('every Looker Studio entry point is a global function', () => {
  const {globals} = loadConnector();
  for (const name of ENTRY_POINTS) assert.equal(typeof globals[name], 'function', name);
});

test('Node is absent from the global scope, as in Apps Script', () => {
  const {globals} = loadConnector();
  for (const name of ['require', 'module', 'process', 'Buffer', 'URL', 'URLSearchParams',
    'fetch', 'setTimeout', 'setInterval', 'TextEncoder', 'structuredClone']) {
    assert.equal(vm.runInContext(`typeof ${name}`, globals), 'undefined', name);
  }
});

test('each file loads on its own: no top-level code depends on another file', () => {
  for (const file of connectorFiles()) assert.doesNotThrow(() => loadConnector({files: [file]}), file);
});

test('the files load and work in reverse order too (Apps Script gives no order guarantee)',
    () => {
      const answer = () => respond(200, {tenant: 'a', connectors: [{id: 'shopify'}]});
      const options = {scriptProperties: {SERVICE_URL: 'https://connect.ondigital.example/'},
        userProperties: {'dscc.key': 'odc_a_b'}, transport: answer};
      const forward = loadConnector(options).run('getConfig', {});
      const reverse = loadConnector({...options, files: connectorFiles().reverse()})
          .run('getConfig', {});
      assert.equal(forward.ok, true);
      assert.deepEqual(reverse, forward);
    });

test('every connector function has a JSDoc comment right above it', () => {
  for (const file of connectorFiles()) {
    const source = fs.readFileSync(path.join(CONNECTOR_DIR, file), 'utf8');
    for (const match of source.matchAll(/^function (\w+)/gm)) {
      const before = source.slice(0, match.index).trimEnd();
      assert.ok(before.endsWith('*/'), `${file}: ${match[1]} has no JSDoc`);
    }
  }
});

test('UrlFetchApp without muteHttpExceptions throws on 4xx/5xx as Apps Script does', () => {
  const {globals} = loadConnector({transport: () => respond(404, {error: 'not_found'})});
  assert.throws(() => globals.UrlFetchApp.fetch('https://x.example/a'),
      /^Error: Request failed for https:\/\/x.example\/a returned code 404\. Truncated server response: \{"error":"not_found"\}/);
  const muted = globals.UrlFetchApp.fetch('https://x.example/a', {muteHttpExceptions: true});
  assert.equal(muted.getResponseCode(), 404);
  assert.equal(muted.getContentText(), '{"error":"not_found"}');
  assert.equal(muted.getHeaders()['Content-Type'], 'application/json');
});

test('UrlFetchApp: 2xx/3xx never throw; the request is built like Apps Script builds it', () => {
  const seen = [];
  const {globals} = loadConnector({transport: (req) => { seen.push(req); return respond(301, 'é'); }});
  const response = globals.UrlFetchApp.fetch('https://x.example/a', {method: 'POST',
    payload: 'a=1'});
  assert.equal(response.getResponseCode(), 301);
  assert.deepEqual(seen[0].headers, {'User-Agent': 'Mozilla/5.0 (compatible; Google-Apps-Script)',
    'Content-Type': 'application/x-www-form-urlencoded'});
  assert.equal(seen[0].method, 'POST');
  assert.equal(seen[0].followRedirects, true);
  assert.deepEqual(plain(response.getContent()), [-61, -87], 'signed bytes, as Java gives them');
});

test('UrlFetchApp rejects bad URLs, bad methods and over-long URLs', () => {
  const {globals} = loadConnector({transport: () => respond(200, '')});
  assert.throws(() => globals.UrlFetchApp.fetch('connect.example/x'), /Invalid argument/);
  assert.throws(() => globals.UrlFetchApp.fetch('https://x.example', {method: 'TRACE'}),
      /Invalid argument: method/);
  assert.throws(() => globals.UrlFetchApp.fetch(`https://x.example/${'a'.repeat(2100)}`),
      /URL Length/);
});

test('UrlFetchApp reports a transport failure as an Apps Script network exception', () => {
  const {globals} = loadConnector({transport: () => { throw new Error('ECONNREFUSED'); }});
  assert.throws(() => globals.UrlFetchApp.fetch('https://x.example/', {muteHttpExceptions: true}),
      /^Error: Address unavailable: https:\/\/x.example\/ \(ECONNREFUSED\)$/);
});

test('PropertiesService: strings in, strings out, null when missing, 9 KB per value', () => {
  const sb = loadConnector({scriptProperties: {N: 5}});
  const props = sb.globals.PropertiesService.getScriptProperties();
  assert.equal(props.getProperty('N'), '5');
  assert.equal(props.getProperty('missing'), null);
  assert.equal(props.setProperty('B', true), props, 'chainable');
  assert.deepEqual(plain(props.getProperties()), {N: '5', B: 'true'});
  props.deleteProperty('N');
  assert.deepEqual(plain(props.getKeys()), ['B']);
  assert.throws(() => props.setProperty('big', 'x'.repeat(9 * 1024)), /Argument too large/);
  assert.notEqual(sb.globals.PropertiesService.getUserProperties(), props);
});

test('CacheService records every call', () => {
  const sb = loadConnector();
  const cache = sb.globals.CacheService.getUserCache();
  cache.put('k', 'v', 60);
  assert.equal(cache.get('k'), 'v');
  assert.deepEqual(sb.cacheCalls, [{scope: 'user', method: 'put', args: ['k', 'v', 60]},
    {scope: 'user', method: 'get', args: ['k']}]);
});

test('DataStudioApp: config builder validates ids and builds the JSON Looker reads', () => {
  const {globals} = loadConnector();
  const cc = globals.DataStudioApp.createCommunityConnector();
  const noId = cc.getConfig();
  noId.newTextInput().setName('x');
  assert.throws(() => noId.build(), /has no id/);
  const twice = cc.getConfig();
  twice.newInfo().setId('a').setText('x');
  twice.newCheckbox().setId('a');
  assert.throws(() => twice.build(), /duplicate config id a/);
  const config = cc.getConfig();
  config.newSelectMultiple().setId('m').setName('M').setAllowOverride(true)
      .addOption(config.newOptionBuilder().setLabel('L').setValue('v'));
  config.setDateRangeRequired(true).setIsSteppedConfig(false);
  assert.deepEqual(plain(config.build()), {configParams: [{type: 'SELECT_MULTIPLE', name: 'm',
    displayName: 'M', parameterControl: {allowOverride: true}, options: [{label: 'L', value: 'v'}]}],
  dateRangeRequired: true, isSteppedConfig: false});
  assert.throws(() => config.newSelectSingle().setId('s').addOption(config.newOptionBuilder()
      .setValue('v')), /label and a value/);
});

test('DataStudioApp: fields, getData response and enums', () => {
  const {globals} = loadConnector();
  const cc = globals.DataStudioApp.createCommunityConnector();
  const fields = cc.getFields();
  fields.newDimension().setId('date').setType(cc.FieldType.YEAR_MONTH_DAY);
  fields.newMetric().setId('revenue').setName('Revenue').setType(cc.FieldType.CURRENCY_SEK)
      .setAggregation(cc.AggregationType.SUM).setIsReaggregatable(true);
  assert.deepEqual(plain(fields.build()), [
    {name: 'date', label: 'date', dataType: 'STRING',
      semantics: {conceptType: 'DIMENSION', semanticType: 'YEAR_MONTH_DAY'}},
    {name: 'revenue', label: 'Revenue', dataType: 'NUMBER', defaultAggregationType: 'SUM',
      semantics: {conceptType: 'METRIC', semanticType: 'CURRENCY_SEK', isReaggregatable: true}}]);
  const response = cc.newGetDataResponse().setFields(fields.forIds(['revenue']))
      .addAllRows([['1.50'], ['2']]).setFiltersApplied(false).build();
  assert.deepEqual(plain(response), {schema: [plain(fields.build())[1]],
    rows: [{values: ['1.50']}, {values: ['2']}], filtersApplied: false});
  assert.throws(() => fields.newMetric().setType('MONEY'), /unknown field type/);
  assert.equal(cc.AuthType.PATH_KEY, 'PATH_KEY');
  assert.ok(Object.isFrozen(cc.FieldType));
});

test('DataStudioApp: user errors carry text and debug text; text is required', () => {
  const sb = loadConnector();
  const cc = sb.globals.DataStudioApp.createCommunityConnector();
  assert.throws(() => cc.newUserError().setText('Do X').setDebugText('because Y').throwException(),
      (err) => err.userError === true && err.text === 'Do X' && err.debugText === 'because Y');
  assert.throws(() => cc.newUserError().setDebugText('only debug').throwException(), TypeError);
  assert.throws(() => cc.newDebugError().setText('admins only').throwException(),
      (err) => err.debugError === true && err.userError === false);
});

test('run() tells user errors from other failures', () => {
  const sb = loadConnector();
  vm.runInContext('function broken_() { return null.x; }', sb.globals);
  const out = sb.run('broken_');
  assert.equal(out.ok, false);
  assert.equal(out.error.userError, false);
  assert.match(out.error.message, /Cannot read properties of null/);
  assert.deepEqual(sb.run('nope'), {ok: false, error: {userError: false,
    message: 'nope is not a function'}});
});
