// KEY auth: getAuthType, setCredentials (validated against GET /v1/connectors), isAuthValid,
// resetAuth.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const {loadConnector, respond} = require('./sandbox');

const BASE = 'https://connect.ondigital.example/';
const KEY = 'odc_k1a2b3_s3cr3tpart';
const LISTING = {tenant: 'alpha', connectors: [{id: 'control_tower', label: 'Control tower',
  description: '', plan: 'pro', current_period_end: '2099-12-31'}]};

/** A connector whose service answers every request with `answer` (or calls it). */
function connector(answer, options = {}) {
  return loadConnector({scriptProperties: {SERVICE_URL: BASE}, identityToken: null,
    transport: typeof answer === 'function' ? answer : () => answer, ...options});
}

test('getAuthType asks for an API key and links to help', () => {
  const out = connector(respond(500, {})).run('getAuthType');
  assert.deepEqual(out.result, {type: 'KEY',
    helpUrl: 'https://ondigital.example/connect/help/api-keys'});
});

test('setCredentials stores a key the service accepts, after one GET with that key', () => {
  const sb = connector(respond(200, LISTING));
  assert.deepEqual(sb.run('setCredentials', {key: `  ${KEY} `}).result, {errorCode: 'NONE'});
  assert.equal(sb.userProperties.getProperty('dscc.key'), KEY);
  assert.equal(sb.fetches.length, 1);
  const [call] = sb.fetches;
  assert.equal(call.method, 'GET');
  assert.equal(call.url, 'https://connect.ondigital.example/v1/connectors');
  assert.equal(call.headers.Authorization, `Bearer ${KEY}`);
  assert.equal(call.payload, undefined);
  assert.equal(call.params.muteHttpExceptions, true);
});

test('setCredentials checks the new key, not the one stored before', () => {
  const sb = connector(respond(200, LISTING), {userProperties: {'dscc.key': 'odc_old_key'}});
  sb.run('setCredentials', {key: KEY});
  assert.equal(sb.fetches[0].headers.Authorization, `Bearer ${KEY}`);
  assert.equal(sb.userProperties.getProperty('dscc.key'), KEY);
});

for (const status of [401, 403]) {
  test(`setCredentials refuses a key the service answers ${status} to, storing nothing`, () => {
    const sb = connector(respond(status, {error: status === 401 ? 'unauthorized' : 'forbidden',
      message: 'invalid or revoked API key'}));
    assert.deepEqual(sb.run('setCredentials', {key: KEY}).result,
        {errorCode: 'INVALID_CREDENTIALS'});
    assert.equal(sb.userProperties.getProperty('dscc.key'), null);
    assert.match(sb.logs.map((l) => l.text).join('\n'), new RegExp(`HTTP ${status}`));
    assert.ok(!sb.logs.some((l) => l.text.includes(KEY)), 'the key is never logged');
  });
}

for (const key of ['', '   ', 'odc_has space', 'x'.repeat(513), undefined, 42]) {
  test(`setCredentials refuses ${JSON.stringify(key)?.slice(0, 20)} without calling the service`,
      () => {
        const sb = connector(() => assert.fail('no request expected'));
        assert.deepEqual(sb.run('setCredentials', {key}).result,
            {errorCode: 'INVALID_CREDENTIALS'});
        assert.equal(sb.fetches.length, 0);
      });
}

const OUTAGES = [
  ['the service is down (503)', respond(503, {error: 'data_unavailable', message: 'later'}),
    /unavailable right now/],
  ['rate limited (429)', respond(429, {error: 'rate_limited', message: 'slow down'},
      {'Retry-After': '12'}), /Wait 12 seconds/],
  ['unreachable', () => { throw new Error('connect ECONNREFUSED'); }, /could not be reached/],
  ['a 200 that is not JSON', respond(200, '<html>proxy login</html>'), /cannot read/],
  ['a 200 without a connectors list', respond(200, {tenant: 'alpha'}), /cannot read/],
];
for (const [what, answer, text] of OUTAGES) {
  test(`setCredentials with ${what} stops with a user error and stores nothing`, () => {
    const sb = connector(answer);
    const out = sb.run('setCredentials', {key: KEY});
    assert.equal(out.ok, false);
    assert.equal(out.error.userError, true);
    assert.match(out.error.text, text);
    assert.ok(!JSON.stringify(out).includes(KEY), 'the key is never in an error');
    assert.equal(sb.userProperties.getProperty('dscc.key'), null);
  });
}

test('isAuthValid is false without a key and true with one, with no network call', () => {
  const none = connector(() => assert.fail('no request expected'));
  assert.equal(none.run('isAuthValid').result, false);
  const some = connector(() => assert.fail('no request expected'),
      {userProperties: {'dscc.key': KEY}});
  assert.equal(some.run('isAuthValid').result, true);
  assert.equal(none.fetches.length + some.fetches.length, 0);
});

test('resetAuth forgets the key (and is harmless when there is none)', () => {
  const sb = connector(respond(500, {}), {userProperties: {'dscc.key': KEY, other: 'kept'}});
  assert.equal(sb.run('resetAuth').ok, true);
  assert.equal(sb.userProperties.getProperty('dscc.key'), null);
  assert.equal(sb.userProperties.getProperty('other'), 'kept');
  assert.equal(sb.run('isAuthValid').result, false);
  assert.equal(sb.run('resetAuth').ok, true);
});

test('the key lives in user properties only, never in script properties', () => {
  const sb = connector(respond(200, LISTING));
  sb.run('setCredentials', {key: KEY});
  assert.deepEqual(sb.scriptProperties.getProperties(), {SERVICE_URL: BASE});
});
