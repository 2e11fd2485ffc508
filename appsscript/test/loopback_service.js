/*
 * A small stand-in for the connector service on 127.0.0.1, for testing the real-HTTP
 * transport and run_connector.js without Python. It runs in a worker thread so it keeps
 * answering while the test thread blocks in execFileSync.
 *
 * Default behaviour follows the service's contract (connector_service/blueprints/connectors.py):
 * Bearer key -> tenant and connectors; 401/403/404/400 as JSON {error, message}. `routes`
 * overrides answers by "METHOD /path": {status, headers, body}.
 */
'use strict';

const http = require('node:http');
const {Worker, isMainThread, parentPort, workerData} = require('node:worker_threads');

const ROLE = 'ondigital-loopback-service';
const SCHEMA = [
  {name: 'date', label: 'Date', dataType: 'STRING',
    semantics: {conceptType: 'DIMENSION', semanticType: 'YEAR_MONTH_DAY', semanticGroup: 'DATETIME'}},
  {name: 'revenue', label: 'Revenue', dataType: 'NUMBER',
    semantics: {conceptType: 'METRIC', semanticType: 'CURRENCY_SEK', semanticGroup: 'CURRENCY',
      isReaggregatable: true}},
  {name: 'orders', label: 'Orders', dataType: 'NUMBER',
    semantics: {conceptType: 'METRIC', semanticType: 'NUMBER', semanticGroup: 'NUMERIC',
      isReaggregatable: true}},
];
const VALUES = {date: '20260201', revenue: '162.00', orders: 4};
const LABELS = {control_tower: 'Control tower', shopify: 'Shopify orders', inventory: 'Inventory'};

/**
 * Start the service. Resolves to {url, requests(), close()}; requests() resolves to what it
 * received: [{method, path, headers, body}] (body as the exact text received).
 * @param {{keys?: Object<string, string[]>, routes?: Object}} [options] keys: API key ->
 *   connector ids it may use (default {'odc_test_good': ['control_tower', 'shopify']})
 */
function startLoopbackService(options = {}) {
  const worker = new Worker(__filename, {workerData: {role: ROLE, options}});
  const replies = [];
  worker.on('message', (message) => replies.shift()?.(message));
  const ask = (question) => new Promise((resolve) => {
    replies.push(resolve);
    worker.postMessage(question);
  });
  return new Promise((resolve, reject) => {
    replies.push(({port}) => resolve({
      url: `http://127.0.0.1:${port}`,
      requests: () => ask('requests').then((m) => m.requests),
      close: () => ask('close').then(() => worker.terminate()),
    }));
    worker.once('error', reject);
  });
}

/** One answer: {status, headers, body} with a JSON body. */
function json(status, body, headers = {}) {
  return {status, headers: {'Content-Type': 'application/json', ...headers},
    body: JSON.stringify(body)};
}

/** The contract's answer to one request (when no route overrides it). */
function answer(keys, method, path, headers, body) {
  const key = /^Bearer (\S+)$/.exec(headers.authorization || '')?.[1];
  const allowed = key && keys[key];
  if (!allowed) return json(401, {error: 'unauthorized', message: 'invalid or revoked API key'});
  if (method === 'GET' && path === '/v1/connectors') {
    return json(200, {tenant: 'alpha', connectors: allowed.map((id) => ({id, label: LABELS[id] || id,
      description: '', plan: 'pro', current_period_end: '2099-12-31'}))});
  }
  const match = /^\/v1\/connectors\/([^/]+)\/(schema|data)$/.exec(path);
  if (method !== 'POST' || !match) return json(404, {error: 'not_found', message: 'no such endpoint'});
  const [, id, endpoint] = match;
  if (!LABELS[id]) return json(404, {error: 'not_found', message: `unknown connector '${id}'`});
  if (!allowed.includes(id)) {
    return json(403, {error: 'forbidden',
      message: `no active subscription to the '${id}' connector for this key`});
  }
  let request;
  try {
    request = JSON.parse(body || '{}');
  } catch (err) {
    return json(400, {error: 'bad_request', message: 'the body is not valid JSON'});
  }
  if (endpoint === 'schema') return json(200, {schema: SCHEMA});
  const names = (request.fields || []).map((f) => f.name);
  return json(200, {schema: SCHEMA.filter((f) => names.includes(f.name)),
    rows: [{values: names.map((n) => VALUES[n])}], filtersApplied: false});
}

/** Worker mode: serve until asked to close, report requests when asked. */
function serve({keys = {odc_test_good: ['control_tower', 'shopify']}, routes = {}}) {
  const received = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = req.url.split('?')[0];
      received.push({method: req.method, path, headers: req.headers, body});
      const out = routes[`${req.method} ${path}`] ||
        answer(keys, req.method, path, req.headers, body);
      const text = typeof out.body === 'string' ? out.body : JSON.stringify(out.body);
      res.writeHead(out.status, out.headers || {});
      res.end(text);
    });
  });
  server.listen(0, '127.0.0.1', () => parentPort.postMessage({port: server.address().port}));
  parentPort.on('message', (question) => {
    if (question === 'requests') parentPort.postMessage({requests: received});
    if (question === 'close') server.close(() => parentPort.postMessage({closed: true}));
  });
}

if (!isMainThread && workerData && workerData.role === ROLE) serve(workerData.options);

module.exports = {startLoopbackService, SCHEMA};
