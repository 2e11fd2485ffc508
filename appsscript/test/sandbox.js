/*
 * Runs the connector's .js files the way Apps Script does: all of them in one global scope
 * (a node:vm context) with fakes of the Apps Script services, and nothing from Node (no
 * require, process, Buffer, URL, fetch or timers) so a connector relying on them fails here.
 *
 *   const {loadConnector, respond} = require('./sandbox');
 *   const sb = loadConnector({scriptProperties: {SERVICE_URL: 'https://x.example/'},
 *                             userProperties: {'dscc.key': 'odc_...'},
 *                             transport: (req) => respond(200, {connectors: []})});
 *   sb.globals.getConfig({languageCode: 'en'});   // or sb.run('getConfig', {...})
 *   sb.fetches, sb.cacheCalls, sb.logs             // what the connector did
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const {createDataStudioApp} = require('./datastudio_fake');
const fakes = require('./gas_fakes');

const CONNECTOR_DIR = path.resolve(__dirname, '..');

/** The connector's source files: every .js directly in appsscript/, sorted by name. */
function connectorFiles(dir = CONNECTOR_DIR) {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.js')).sort();
}

/** A transport that fails every request, for tests that must not reach the network. */
function noNetwork(request) {
  throw new Error(`no transport configured for ${request.method} ${request.url}`);
}

/**
 * The connector loaded in a fresh sandbox.
 * @param {object} options
 * @param {object} [options.scriptProperties] e.g. {SERVICE_URL, CONNECTOR, ADMIN_EMAILS}
 * @param {object} [options.userProperties] e.g. {'dscc.key': 'odc_...'}
 * @param {Function} [options.transport] (request) -> {status, headers, body}; throws = network
 *   failure. request is {url, method, headers, payload, followRedirects}.
 * @param {string|null} [options.identityToken] what ScriptApp.getIdentityToken() returns
 * @param {string} [options.email] Session.getEffectiveUser().getEmail()
 * @param {string[]} [options.files] load these files in this order (default: sorted)
 * @return {{globals: object, fetches: object[], cacheCalls: object[], logs: object[],
 *   scriptProperties: object, userProperties: object, run: Function}}
 */
function loadConnector(options = {}) {
  const fetches = [];
  const cacheCalls = [];
  const logs = [];
  const stores = {
    script: fakes.createProperties(options.scriptProperties),
    user: fakes.createProperties(options.userProperties),
    document: fakes.createProperties(),
  };
  const {Logger, console} = fakes.createLogging(logs);
  const globals = vm.createContext({
    DataStudioApp: createDataStudioApp(),
    UrlFetchApp: fakes.createUrlFetchApp(options.transport || noNetwork, fetches),
    PropertiesService: fakes.createPropertiesService(stores),
    CacheService: fakes.createCacheService(cacheCalls),
    ScriptApp: fakes.createScriptApp(options.identityToken),
    Session: fakes.createSession(options.email),
    Logger,
    console,
  });
  for (const file of options.files || connectorFiles()) {
    const source = fs.readFileSync(path.join(CONNECTOR_DIR, file), 'utf8');
    vm.runInContext(source, globals, {filename: file});
  }
  return {globals, fetches, cacheCalls, logs, scriptProperties: stores.script,
    userProperties: stores.user, run: (name, ...args) => run(globals, name, args)};
}

/**
 * Call one global function and describe the outcome as plain JSON:
 * {ok: true, result} or {ok: false, error: {userError, text, debugText}} for a user error,
 * or {ok: false, error: {userError: false, message, stack}} for anything else.
 */
function run(globals, name, args) {
  if (typeof globals[name] !== 'function') {
    return {ok: false, error: {userError: false, message: `${name} is not a function`}};
  }
  try {
    const result = globals[name](...args);
    return {ok: true, result: result === undefined ? null : plain(result)};
  } catch (err) {
    if (err && (err.userError || err.debugError)) {
      return {ok: false, error: {userError: Boolean(err.userError), text: err.text,
        debugText: err.debugText}};
    }
    return {ok: false, error: {userError: false, message: String(err && err.message),
      stack: String(err && err.stack)}};
  }
}

/** A copy made of plain data in this realm (vm objects are not deepEqual to ours). */
function plain(value) {
  return JSON.parse(JSON.stringify(value));
}

/** A transport answer: JSON-encodes objects, keeps strings as they are. */
function respond(status, body, headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return {status, headers: {'Content-Type': 'application/json', ...headers}, body: text};
}

module.exports = {loadConnector, connectorFiles, respond, plain, CONNECTOR_DIR};
