// appsscript.json and the clasp files: complete dataStudio block, minimal scopes, an allow-list
// that covers the service, nothing secret, tests never pushed.
'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {CONNECTOR_DIR, connectorFiles} = require('./sandbox');

const read = (name) => fs.readFileSync(path.join(CONNECTOR_DIR, name), 'utf8');
const manifest = JSON.parse(read('appsscript.json'));
const PLACEHOLDER_SERVICE_URL = 'https://connect.ondigital.example/';

test('the dataStudio block has every required and wanted field', () => {
  const ds = manifest.dataStudio;
  for (const key of ['name', 'company', 'companyUrl', 'logoUrl', 'addOnUrl', 'supportUrl',
    'description', 'shortDescription', 'privacyPolicyUrl', 'termsOfServiceUrl']) {
    assert.equal(typeof ds[key], 'string', key);
    assert.ok(ds[key].length > 0, key);
  }
  assert.ok(ds.name.length <= 28, 'name: at most 28 characters');
  assert.ok(ds.shortDescription.length <= 114, 'shortDescription: at most 114 characters');
  assert.equal(ds.company, 'Ondigital');
  for (const key of ['companyUrl', 'logoUrl', 'addOnUrl', 'supportUrl', 'privacyPolicyUrl',
    'termsOfServiceUrl']) {
    assert.match(ds[key], /^https:\/\/[a-z0-9.-]+\//, key);
  }
  assert.deepEqual(ds.authType, ['KEY']);
  assert.deepEqual(ds.feeType, ['PAID']);
  assert.ok(Array.isArray(ds.sources) && ds.sources.length > 0);
});

test('V8, Stackdriver logging, and only the scopes the connector needs', () => {
  assert.equal(manifest.runtimeVersion, 'V8');
  assert.equal(manifest.exceptionLogging, 'STACKDRIVER');
  assert.deepEqual(manifest.oauthScopes, [
    'https://www.googleapis.com/auth/script.external_request',
    'openid',
    'https://www.googleapis.com/auth/userinfo.email',
  ]);
});

test('urlFetchWhitelist: https prefixes with a domain and a path, covering SERVICE_URL', () => {
  assert.ok(manifest.urlFetchWhitelist.length > 0);
  for (const prefix of manifest.urlFetchWhitelist) {
    assert.match(prefix, /^https:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+\/\S*$/, prefix);
  }
  const endpoints = ['v1/connectors', 'v1/connectors/control_tower/data'];
  for (const endpoint of endpoints) {
    const url = PLACEHOLDER_SERVICE_URL + endpoint;
    assert.ok(manifest.urlFetchWhitelist.some((p) => url.startsWith(p)), url);
  }
});

test('clasp pushes the connector only: tests ignored, subdirectories skipped, no real ids', () => {
  const ignore = read('.claspignore').split('\n').map((l) => l.trim());
  assert.ok(ignore.includes('test/**'));
  const clasp = JSON.parse(read('.clasp.json.example'));
  assert.equal(clasp.skipSubdirectories, true);
  assert.equal(clasp.rootDir, '.');
  assert.match(clasp.scriptId, /^<.*>$/, 'a placeholder, not a real script id');
  assert.equal(fs.existsSync(path.join(CONNECTOR_DIR, '.clasp.json')), false);
});

test('no secrets in the pushed files: no API keys, tokens or private keys', () => {
  for (const file of [...connectorFiles(), 'appsscript.json']) {
    const source = read(file);
    assert.doesNotMatch(source, /odc_[A-Za-z0-9]+_[A-Za-z0-9]{8,}/, `${file}: an API key`);
    assert.doesNotMatch(source, /eyJ[A-Za-z0-9_-]{10,}/, `${file}: a JWT`);
    assert.doesNotMatch(source, /PRIVATE KEY|AKfycb/, `${file}: a key or deployment id`);
  }
});

test('the connector never uses CacheService, and never calls out except through UrlFetchApp',
    () => {
      for (const file of connectorFiles()) {
        const code = read(file).replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
        assert.doesNotMatch(code, /CacheService/, file);
        assert.doesNotMatch(code, /\bfetchAll\b|\beval\b|new Function/, file);
      }
    });
