// Every failure a user can meet, as the user error they see (text) and admins see (debugText);
// and isAdminUser.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const {loadConnector, respond} = require('./sandbox');

const BASE = 'https://connect.ondigital.example/';
const KEY = 'odc_k1a2b3_s3cr3tpart';
const TOKEN = 'eyJ.identity.token';
const DATA_URL = 'https://connect.ondigital.example/v1/connectors/control_tower/data';
const REQUEST = {configParams: {connector: 'control_tower'}, fields: [{name: 'revenue'}],
  dateRange: {startDate: '2026-01-01', endDate: '2026-03-31'}};

/** A connector with key and token whose service answers `answer` (or calls it). */
function connector(answer, script = {}) {
  return loadConnector({scriptProperties: {SERVICE_URL: BASE, ...script},
    userProperties: {'dscc.key': KEY}, identityToken: TOKEN,
    transport: typeof answer === 'function' ? answer : () => answer});
}

/** The user error getData stops with. */
function getDataError(answer, script) {
  const sb = connector(answer, script);
  const out = sb.run('getData', REQUEST);
  assert.equal(out.ok, false);
  assert.equal(out.error.userError, true, JSON.stringify(out.error));
  return {...out.error, sb};
}

const CASES = [
  {status: 401, body: {error: 'unauthorized', message: 'invalid or revoked API key'},
    text: 'Ondigital did not accept your API key (invalid or revoked API key). Reconnect this ' +
      'data source with a valid key (edit the connection and enter the key again).'},
  {status: 403, body: {error: 'forbidden',
    message: "no active subscription to the 'control_tower' connector for this key"},
  text: "Your Ondigital subscription does not cover this (no active subscription to the " +
      "'control_tower' connector for this key). Renew the subscription, or choose a connector " +
      'your subscription covers.'},
  {status: 403, body: {error: 'plan_limit',
    message: 'the date range spans 90 days; the plan allows 31'},
  text: 'Your Ondigital plan does not allow this request (the date range spans 90 days; the ' +
      'plan allows 31). Choose a shorter date range or fewer rows, or upgrade your plan.'},
  {status: 404, body: {error: 'not_found', message: "unknown connector 'control_tower'"},
    text: "This Ondigital connector is not available (unknown connector 'control_tower'). " +
      'Edit the data source and choose another connector.'},
  {status: 400, body: {error: 'bad_request',
    message: 'ask for one date field at a time, not date and week'},
  text: 'Ondigital could not answer this request (ask for one date field at a time, not date ' +
      "and week). Change the chart's fields, filters or date range."},
  {status: 413, body: {error: 'request_entity_too_large',
    message: 'the request body is too large'},
  text: 'This request is too large for Ondigital. Use fewer fields or filter values.'},
  {status: 429, body: {error: 'rate_limited', message: 'the plan allows 60 requests per ' +
    'minute; retry in 7 s'}, headers: {'Retry-After': '7'},
  text: 'Too many requests to Ondigital right now. Wait 7 seconds and refresh the report.',
  debug: '(Retry-After: 7)'},
  {status: 500, body: {error: 'internal', message: 'internal error (incident 0123456789ab)'},
    text: 'The Ondigital service is unavailable right now. Try again in a few minutes. If it ' +
      'keeps happening, contact Ondigital support and quote: internal error (incident ' +
      '0123456789ab)'},
  {status: 503, body: {error: 'data_unavailable', message: 'the data is not available right ' +
    'now (a sync or build may be running); try again in a minute'},
  headers: {'Retry-After': '30'},
  text: /^The Ondigital service is unavailable right now\. Try again in a few minutes\./},
  {status: 502, body: '<html><body>Bad gateway</body></html>',
    text: 'The Ondigital service is unavailable right now. Try again in a few minutes.'},
  {status: 418, body: {error: 'teapot', message: 'short and stout'},
    text: 'Ondigital answered in an unexpected way (HTTP 418). Try again later or contact ' +
      'Ondigital support.'},
];

for (const c of CASES) {
  const code = typeof c.body === 'string' ? 'non-JSON' : c.body.error;
  test(`getData: HTTP ${c.status} ${code} becomes a clear user error`, () => {
    const err = getDataError(respond(c.status, c.body, c.headers));
    if (typeof c.text === 'string') assert.equal(err.text, c.text);
    else assert.match(err.text, c.text);
    assert.ok(err.debugText.startsWith(`POST ${DATA_URL} -> HTTP ${c.status}`), err.debugText);
    if (typeof c.body !== 'string') {
      assert.ok(err.debugText.includes(`${c.body.error}: ${c.body.message}`), err.debugText);
    }
    if (c.debug) assert.ok(err.debugText.includes(c.debug));
    for (const secret of [KEY, TOKEN]) {
      assert.ok(!err.text.includes(secret) && !err.debugText.includes(secret));
      assert.ok(!err.sb.logs.some((l) => l.text.includes(secret)), 'no credential in logs');
    }
  });
}

test('getSchema and getConfig map errors the same way as getData', () => {
  const answer = respond(403, {error: 'plan_limit', message: 'too many rows'});
  for (const [name, request] of [['getSchema', {configParams: {connector: 'x'}}],
    ['getConfig', {languageCode: 'en'}]]) {
    const out = connector(answer).run(name, request);
    assert.match(out.error.text, /^Your Ondigital plan does not allow this request \(too many/);
  }
});

test('Retry-After: any header case, singular, missing or a date', () => {
  const wait = (headers) => getDataError(respond(429, {error: 'rate_limited', message: ''},
      headers)).text.match(/Wait (.*) and refresh/)[1];
  assert.equal(wait({'retry-after': '1'}), '1 second');
  assert.equal(wait({'RETRY-AFTER': '120'}), '120 seconds');
  assert.equal(wait({}), 'a minute');
  assert.equal(wait({'Retry-After': 'Wed, 21 Oct 2026 07:28:00 GMT'}), 'a minute');
});

test('a network failure is "could not be reached", with the cause for admins', () => {
  const err = getDataError(() => { throw new Error('getaddrinfo ENOTFOUND'); });
  assert.equal(err.text, 'The Ondigital service could not be reached. Try again in a few minutes.');
  assert.match(err.debugText, new RegExp(`^POST ${DATA_URL} failed: Address unavailable: .*ENOTFOUND`));
});

test('a 200 that is not JSON is "cannot read", with the start of the body for admins', () => {
  const err = getDataError(respond(200, '<!doctype html><title>Sign in</title>'));
  assert.match(err.text, /^The Ondigital service sent an answer this connector cannot read/);
  assert.match(err.debugText, /HTTP 200: not JSON .*body starts: <!doctype html><title>Sign in/);
});

test('a redirect is not followed and is reported as unexpected', () => {
  const err = getDataError({status: 302, headers: {Location: 'https://elsewhere.example/'},
    body: ''});
  assert.match(err.text, /unexpected way \(HTTP 302\)/);
});

test('missing SERVICE_URL stops every service call with a setup error, before any request',
    () => {
      const sb = loadConnector({userProperties: {'dscc.key': KEY},
        transport: () => assert.fail('no request expected')});
      for (const [name, request] of [['getConfig', {}], ['getSchema', {configParams: {connector:
        'x'}}], ['getData', REQUEST], ['setCredentials', {key: KEY}]]) {
        const out = sb.run(name, request);
        assert.equal(out.error.userError, true, name);
        assert.match(out.error.text, /not set up yet .*contact Ondigital support/);
        assert.match(out.error.debugText, /Script property SERVICE_URL is not set/);
      }
      assert.equal(sb.fetches.length, 0);
      assert.equal(sb.run('getAuthType').ok, true, 'getAuthType needs no service');
      assert.equal(sb.run('isAuthValid').result, true);
    });

test('a SERVICE_URL that is not http(s) stops with a setup error', () => {
  for (const url of ['ftp://connect.ondigital.example/', 'connect.ondigital.example', 'https://']) {
    const err = getDataError(() => assert.fail('no request expected'), {SERVICE_URL: url});
    assert.match(err.text, /invalid service address/);
    assert.ok(err.debugText.includes(url));
  }
});

test('service messages are shown on one line and at most 300 characters', () => {
  const err = getDataError(respond(400, {error: 'bad_request',
    message: `line one\nline\ttwo\u0007 ${'x'.repeat(400)}`}));
  const shown = err.text.match(/\((.*)\)\. Change/)[1];
  assert.ok(shown.startsWith('line one line two x'), shown);
  assert.equal(shown.length, 300);
  assert.ok(shown.endsWith('…'));
});

test('a non-string service message is ignored', () => {
  const err = getDataError(respond(400, {error: 'bad_request', message: {nested: true}}));
  assert.equal(err.text, "Ondigital could not answer this request. Change the chart's fields, " +
    'filters or date range.');
});

test('isAdminUser: only e-mails listed in ADMIN_EMAILS, ignoring case and spacing', () => {
  const admin = (email, list) => loadConnector({email,
    scriptProperties: list === undefined ? {} : {ADMIN_EMAILS: list}}).run('isAdminUser').result;
  const list = ' Ops@Ondigital.example, ana@alpha.example;bo@beta.example ';
  assert.equal(admin('ops@ondigital.example', list), true);
  assert.equal(admin('ANA@alpha.example', list), true);
  assert.equal(admin('bo@beta.example', list), true);
  assert.equal(admin('eve@alpha.example', list), false);
  assert.equal(admin('alpha.example', list), false);
  assert.equal(admin('', list), false, 'no e-mail (scope not granted) is never admin');
  assert.equal(admin('ops@ondigital.example', ''), false);
  assert.equal(admin('ops@ondigital.example', undefined), false);
});

test('isAdminUser is false when Session cannot tell who the user is', () => {
  const sb = loadConnector({scriptProperties: {ADMIN_EMAILS: 'ops@ondigital.example'}});
  sb.globals.Session = {getEffectiveUser() { throw new Error('no permission'); }};
  assert.equal(sb.run('isAdminUser').result, false);
});
