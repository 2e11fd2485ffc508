/*
 * Fakes of the Apps Script services the connector touches besides DataStudioApp:
 * UrlFetchApp (pluggable transport), PropertiesService, CacheService (recording), ScriptApp,
 * Session, Logger and console. Each records what it was asked so tests can assert on it.
 */
'use strict';

const METHODS = ['get', 'delete', 'patch', 'post', 'put'];
const MAX_URL_LENGTH = 2082;
const MAX_PROPERTY_VALUE_BYTES = 9 * 1024;
const APPS_SCRIPT_USER_AGENT = 'Mozilla/5.0 (compatible; Google-Apps-Script)';

/** An HTTPResponse as UrlFetchApp.fetch returns it. */
function httpResponse(answer) {
  const headers = {...(answer.headers || {})};
  const body = answer.body === undefined ? '' : String(answer.body);
  return Object.freeze({
    getResponseCode: () => answer.status,
    getContentText(charset) {
      if (charset === undefined || /^utf-?8$/i.test(charset)) return body;
      return Buffer.from(body, 'utf8').toString('latin1');
    },
    getContent: () => Array.from(Buffer.from(body, 'utf8'), (b) => (b > 127 ? b - 256 : b)),
    getHeaders: () => ({...headers}),
    getAllHeaders: () => ({...headers}),
  });
}

/**
 * The request a transport receives, built the way UrlFetchApp builds it: method upper-cased,
 * Content-Type from contentType (form-encoded by default when there is a payload), Apps
 * Script's User-Agent.
 */
function outgoingRequest(url, params) {
  if (typeof url !== 'string' || !/^https?:\/\//i.test(url)) {
    throw new Error(`Invalid argument: ${url}`);
  }
  if (url.length > MAX_URL_LENGTH) throw new Error('Limit Exceeded: URLFetch URL Length.');
  const method = String(params.method || 'get').toLowerCase();
  if (!METHODS.includes(method)) throw new Error(`Invalid argument: method ${params.method}`);
  const headers = {'User-Agent': APPS_SCRIPT_USER_AGENT, ...(params.headers || {})};
  let payload;
  if (params.payload !== undefined && params.payload !== null) {
    if (typeof params.payload !== 'string') {
      throw new Error('this fake sends string payloads only');
    }
    payload = params.payload;
    headers['Content-Type'] = params.contentType || 'application/x-www-form-urlencoded';
  }
  return {url, method: method.toUpperCase(), headers, payload,
    followRedirects: params.followRedirects !== false};
}

/**
 * UrlFetchApp with a transport `(request) -> {status, headers, body}` that throws on a network
 * failure. Without muteHttpExceptions a status >= 400 throws as Apps Script does; with it the
 * HTTPResponse comes back whatever the status.
 */
function createUrlFetchApp(transport, fetches) {
  return Object.freeze({
    fetch(url, params) {
      const options = params || {};
      const request = outgoingRequest(url, options);
      fetches.push({...request, params: JSON.parse(JSON.stringify(options))});
      let answer;
      try {
        answer = transport(request);
      } catch (err) {
        throw new Error(`Address unavailable: ${url} (${err.message})`);
      }
      if (answer.status >= 400 && !options.muteHttpExceptions) {
        throw new Error(`Request failed for ${url} returned code ${answer.status}. Truncated ` +
          `server response: ${String(answer.body || '').slice(0, 100)} (use ` +
          'muteHttpExceptions option to examine full response)');
      }
      return httpResponse(answer);
    },
  });
}

/** One property store (script, user or document): string values, 9 KB each at most. */
function createProperties(initial) {
  const values = new Map(Object.entries(initial || {}).map(([k, v]) => [k, String(v)]));
  const store = {
    getProperty: (key) => (values.has(key) ? values.get(key) : null),
    setProperty(key, value) {
      const text = String(value);
      if (Buffer.byteLength(key + text, 'utf8') > MAX_PROPERTY_VALUE_BYTES) {
        throw new Error('Argument too large: value');
      }
      values.set(String(key), text);
      return store;
    },
    deleteProperty(key) { values.delete(key); return store; },
    getProperties: () => Object.fromEntries(values),
    getKeys: () => Array.from(values.keys()),
    setProperties(props, deleteAllOthers) {
      if (deleteAllOthers) values.clear();
      for (const [k, v] of Object.entries(props)) store.setProperty(k, v);
      return store;
    },
    deleteAllProperties() { values.clear(); return store; },
  };
  return Object.freeze(store);
}

/** PropertiesService over the given stores. */
function createPropertiesService(stores) {
  return Object.freeze({
    getScriptProperties: () => stores.script,
    getUserProperties: () => stores.user,
    getDocumentProperties: () => stores.document,
  });
}

/** CacheService whose caches record every call in `calls` ({scope, method, args}). */
function createCacheService(calls) {
  const cache = (scope) => {
    const items = new Map();
    const record = (method, args) => calls.push({scope, method, args: Array.from(args)});
    return Object.freeze({
      get(key) { record('get', arguments); return items.has(key) ? items.get(key) : null; },
      getAll(keys) { record('getAll', arguments); return {}; },
      put(key, value) { record('put', arguments); items.set(key, String(value)); },
      putAll(values) { record('putAll', arguments); },
      remove(key) { record('remove', arguments); items.delete(key); },
      removeAll(keys) { record('removeAll', arguments); },
    });
  };
  const scopes = {script: cache('script'), user: cache('user'), document: cache('document')};
  return Object.freeze({
    getScriptCache: () => scopes.script,
    getUserCache: () => scopes.user,
    getDocumentCache: () => scopes.document,
  });
}

/** ScriptApp: the identity token (null when none, as without the openid scope). */
function createScriptApp(identityToken) {
  return Object.freeze({
    getIdentityToken: () => (identityToken === undefined ? null : identityToken),
    getOAuthToken: () => 'fake-oauth-access-token',
  });
}

/** Session: the effective (and active) user's e-mail, '' when unknown. */
function createSession(email) {
  const user = Object.freeze({getEmail: () => email || ''});
  return Object.freeze({getEffectiveUser: () => user, getActiveUser: () => user});
}

/** Logger and console that record lines in `logs` instead of printing them. */
function createLogging(logs) {
  const line = (level) => (...args) => { logs.push({level, text: args.map(String).join(' ')}); };
  const Logger = Object.freeze({
    log(...args) { line('log')(...args); return Logger; },
    getLog: () => logs.map((l) => l.text).join('\n'),
    clear() { logs.length = 0; },
  });
  const console = Object.freeze({log: line('log'), info: line('info'), warn: line('warn'),
    error: line('error')});
  return {Logger, console};
}

module.exports = {createUrlFetchApp, createProperties, createPropertiesService,
  createCacheService, createScriptApp, createSession, createLogging, APPS_SCRIPT_USER_AGENT};
