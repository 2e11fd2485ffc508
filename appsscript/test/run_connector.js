/*
 * Run the connector against a real service, from the command line:
 *
 *   node appsscript/test/run_connector.js < spec.json
 *
 * spec (JSON on stdin):
 *   {"serviceUrl": "http://127.0.0.1:8080",      SERVICE_URL script property (required)
 *    "key": "odc_...",                            stored as the user's key (optional; or use a
 *                                                 setCredentials step)
 *    "connector": "control_tower",                CONNECTOR script property (optional: fixes
 *                                                 the connector; else configParams.connector)
 *    "identityToken": "eyJ...",                   ScriptApp.getIdentityToken() (optional)
 *    "email": "ana@alpha.example",                Session's effective user (optional)
 *    "scriptProperties": {"ADMIN_EMAILS": "..."}, more script properties (optional)
 *    "timeoutMs": 30000,                          per HTTP request (optional)
 *    "steps": [{"call": "getConfig", "request": {"languageCode": "en"}},
 *              {"call": "getSchema", "request": {"configParams": {}}},
 *              {"call": "getData",   "request": {...Looker Studio getData request...}}]}
 *
 * stdout (JSON): {"results": [{"call", "ok": true, "result"} |
 *                             {"call", "ok": false, "error": {"userError": true, "text",
 *                                                             "debugText"}} |
 *                             {"call", "ok": false, "error": {"userError": false, "message",
 *                                                             "stack"}}],
 *                 "fetches": [{"method", "url", "headers" (credentials redacted), "payload"}],
 *                 "cacheCalls": [...], "logs": [{"level", "text"}]}
 * Exit status: 0 when every step ran (user errors included), 1 when a step failed with
 * anything but a user error, 2 when the spec is unusable (then stdout is {"error": "..."}).
 */
'use strict';

const {loadConnector} = require('./sandbox');
const {realHttpTransport} = require('./http_transport');

const CALLS = ['getAuthType', 'setCredentials', 'isAuthValid', 'resetAuth', 'isAdminUser',
  'getConfig', 'getSchema', 'getData'];
const REDACTED = ['authorization', 'x-identity-token'];

/** Why a spec cannot run, or '' when it can. */
function specProblem(spec) {
  if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return 'the spec must be an object';
  if (typeof spec.serviceUrl !== 'string' || !spec.serviceUrl) return 'serviceUrl is required';
  if (!Array.isArray(spec.steps)) return 'steps must be a list';
  const bad = spec.steps.find((s) => !s || !CALLS.includes(s.call));
  return bad ? `unknown call ${JSON.stringify(bad && bad.call)}; known: ${CALLS.join(', ')}` : '';
}

/** A recorded fetch with the credentials replaced by "<redacted>". */
function redacted(fetch) {
  const headers = {};
  for (const [name, value] of Object.entries(fetch.headers)) {
    headers[name] = REDACTED.includes(name.toLowerCase()) ? '<redacted>' : value;
  }
  return {method: fetch.method, url: fetch.url, headers, payload: fetch.payload};
}

/**
 * Run a spec's steps in one sandbox (so a setCredentials step's key is kept for the next).
 * @param {object} spec see the file comment
 * @param {Function} [transport] defaults to real HTTP
 * @return {{results: object[], fetches: object[], cacheCalls: object[], logs: object[]}}
 */
function runSpec(spec, transport) {
  const problem = specProblem(spec);
  if (problem) throw new Error(problem);
  const scriptProperties = {...(spec.scriptProperties || {}), SERVICE_URL: spec.serviceUrl};
  if (spec.connector) scriptProperties.CONNECTOR = spec.connector;
  const sandbox = loadConnector({
    scriptProperties,
    transport: transport || realHttpTransport({timeoutMs: spec.timeoutMs}),
    userProperties: spec.key ? {'dscc.key': spec.key} : {},
    identityToken: spec.identityToken === undefined ? null : spec.identityToken,
    email: spec.email,
  });
  const results = spec.steps.map((step) => ({call: step.call,
    ...sandbox.run(step.call, ...('request' in step ? [step.request] : []))}));
  return {results, fetches: sandbox.fetches.map(redacted), cacheCalls: sandbox.cacheCalls,
    logs: sandbox.logs};
}

/** CLI: spec on stdin, results on stdout. */
async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  let output;
  try {
    output = runSpec(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  } catch (err) {
    process.stdout.write(JSON.stringify({error: err.message}) + '\n');
    process.exitCode = 2;
    return;
  }
  process.stdout.write(JSON.stringify(output) + '\n');
  process.exitCode = output.results.every((r) => r.ok || r.error.userError) ? 0 : 1;
}

// `node --test appsscript/test/` also loads this file as a test file: then it only exports.
if (require.main === module && !process.env.NODE_TEST_CONTEXT) main();

module.exports = {runSpec, CALLS};
