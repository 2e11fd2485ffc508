/*
 * A real-HTTP transport for the sandbox's UrlFetchApp. UrlFetchApp.fetch is synchronous, so
 * each request runs in a child Node process (this file) that performs it with fetch() and
 * prints {status, headers, body} or {error} as JSON; the parent waits with execFileSync.
 *
 * Because the parent blocks while the child runs, a server in the same thread could never
 * answer: serve from another thread or process (see loopback_service.js).
 */
'use strict';

const {execFileSync} = require('node:child_process');

/** The environment for child processes, without node:test's marker (see main() below). */
function childEnv() {
  const env = {...process.env};
  delete env.NODE_TEST_CONTEXT;
  return env;
}

/**
 * A transport doing real HTTP: (request) -> {status, headers, body}; throws on network failure
 * or timeout, which the fake UrlFetchApp reports like Apps Script does.
 * @param {{timeoutMs?: number}} [options] per request (Apps Script's own limit is about 60 s)
 */
function realHttpTransport({timeoutMs = 30000} = {}) {
  return function transport(request) {
    let output;
    try {
      output = execFileSync(process.execPath, [__filename], {
        input: JSON.stringify(request), env: childEnv(), timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe']});
    } catch (err) {
      const why = err.code === 'ETIMEDOUT' ? `Timeout after ${timeoutMs} ms` : err.message;
      throw new Error(`${why}: ${request.url}`);
    }
    const answer = JSON.parse(output.toString('utf8'));
    if (answer.error) throw new Error(answer.error);
    return answer;
  };
}

/** Perform one request with fetch(); redirects are returned, not followed, when asked. */
async function perform(request) {
  const init = {method: request.method, headers: request.headers,
    redirect: request.followRedirects === false ? 'manual' : 'follow'};
  if (request.payload !== undefined) init.body = Buffer.from(request.payload, 'utf8');
  const response = await fetch(request.url, init);
  const headers = {};
  response.headers.forEach((value, name) => { headers[name] = value; });
  return {status: response.status, headers, body: await response.text()};
}

/** Child mode: one request from stdin, its answer (or {error}) on stdout. */
async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  let answer;
  try {
    answer = await perform(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  } catch (err) {
    const cause = err.cause ? ` (${err.cause.code || err.cause.message})` : '';
    answer = {error: `${err.message}${cause}`};
  }
  process.stdout.write(JSON.stringify(answer));
}

// `node --test appsscript/test/` also loads this file as a test file (NODE_TEST_CONTEXT set):
// then it only defines its exports.
if (require.main === module && !process.env.NODE_TEST_CONTEXT) main();

module.exports = {realHttpTransport, childEnv};
