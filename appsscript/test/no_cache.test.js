// No tenant data in Apps Script caches: every entry point, on success and on failure, leaves
// CacheService untouched.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const {loadConnector, respond} = require('./sandbox');

const KEY = 'odc_k1a2b3_s3cr3tpart';
const SCHEMA = [{name: 'revenue', label: 'Revenue', dataType: 'NUMBER',
  semantics: {conceptType: 'METRIC', semanticType: 'CURRENCY_SEK'}}];

/** The service: a listing, a schema, data rows; or `status` for everything. */
function service(status) {
  return (req) => {
    if (status) return respond(status, {error: 'x', message: 'y'});
    if (req.url.endsWith('/v1/connectors')) {
      return respond(200, {tenant: 'alpha', connectors: [{id: 'control_tower'}]});
    }
    if (req.url.endsWith('/schema')) return respond(200, {schema: SCHEMA});
    return respond(200, {schema: SCHEMA, rows: [{values: ['162.00']}], filtersApplied: false});
  };
}

/** Every entry point once, with a repeated getData (a cache would show up there). */
function everything(sb) {
  const config = {connector: 'control_tower'};
  const data = {configParams: config, fields: [{name: 'revenue'}],
    dateRange: {startDate: '2026-02-01', endDate: '2026-02-28'}};
  return [sb.run('getAuthType'), sb.run('setCredentials', {key: KEY}), sb.run('isAuthValid'),
    sb.run('getConfig', {languageCode: 'en'}), sb.run('getSchema', {configParams: config}),
    sb.run('getData', data), sb.run('getData', data), sb.run('isAdminUser'),
    sb.run('resetAuth')];
}

for (const status of [0, 401, 403, 429, 503]) {
  test(`CacheService is never touched (${status ? `service answers ${status}` : 'success'})`, () => {
    const sb = loadConnector({scriptProperties: {SERVICE_URL: 'https://connect.ondigital.example/',
      ADMIN_EMAILS: 'ops@ondigital.example'}, email: 'ops@ondigital.example',
    transport: service(status)});
    const outcomes = everything(sb);
    if (!status) assert.ok(outcomes.every((o) => o.ok), JSON.stringify(outcomes));
    assert.deepEqual(sb.cacheCalls, []);
    assert.equal(sb.cacheCalls.filter((c) => c.method.startsWith('put')).length, 0);
    if (!status) {
      assert.equal(sb.fetches.filter((f) => f.url.endsWith('/data')).length, 2,
          'the repeated getData goes to the service again');
    }
  });
}
