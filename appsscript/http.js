/*
 * Calls to the connector service: URL, headers (API key, identity token), JSON in and out.
 * Every call uses muteHttpExceptions so that a 4xx/5xx comes back as an answer that
 * errors.js turns into a user error, instead of UrlFetchApp's generic exception.
 */

/**
 * Make one request to the service and return its raw answer (any status). The body is read
 * as UTF-8 whatever the Content-Type says: the service sends UTF-8 JSON, at times without a
 * charset.
 * @param {string} method 'get' or 'post'
 * @param {string} path e.g. '/v1/connectors'
 * @param {string=} body a JSON string to send as is, or undefined for none
 * @param {string=} key the API key to send instead of the stored one (setCredentials)
 * @return {{method: string, url: string, status: number, text: string, headers: Object}}
 */
function fetchService_(method, path, body, key) {
  var url = serviceBaseUrl_() + path;
  var params = {
    method: method,
    headers: requestHeaders_(key === undefined ? storedKey_() : key),
    muteHttpExceptions: true,
    followRedirects: false
  };
  if (body !== undefined) {
    params.contentType = 'application/json; charset=utf-8';
    params.payload = body;
  }
  var response;
  try {
    response = UrlFetchApp.fetch(url, params);
  } catch (e) {
    throwUnreachable_(method, url, e);
  }
  return {method: method, url: url, status: response.getResponseCode(),
    text: response.getContentText('UTF-8'), headers: response.getHeaders()};
}

/**
 * The headers of every call: the API key as a bearer token and, when available and enabled,
 * the Google identity token that proves which script and which Google user is calling.
 * @param {string} key the API key ('' sends none)
 * @return {Object<string, string>}
 */
function requestHeaders_(key) {
  var headers = {Accept: 'application/json'};
  if (key) headers.Authorization = 'Bearer ' + key;
  var token = identityToken_();
  if (token) headers['X-Identity-Token'] = token;
  return headers;
}

/**
 * The effective user's OpenID identity token, or '' when disabled or unavailable (the
 * openid scope missing, or no user). Never throws: the API key alone still works.
 * @return {string}
 */
function identityToken_() {
  if (!identityTokensEnabled_()) return '';
  try {
    return ScriptApp.getIdentityToken() || '';
  } catch (e) {
    return '';
  }
}

/**
 * Call the service and return its JSON body; any non-2xx answer, unreadable body or
 * unreachable service stops with the matching user error.
 * @param {string} method 'get' or 'post'
 * @param {string} path e.g. '/v1/connectors/control_tower/schema'
 * @param {string|undefined} body a JSON string, or undefined
 * @param {Array<string>} arrays names of members that must be arrays, e.g. ['schema', 'rows']
 * @return {Object} the parsed JSON object
 */
function callService_(method, path, body, arrays) {
  var answer = fetchService_(method, path, body);
  if (answer.status < 200 || answer.status > 299) throwForAnswer_(answer);
  return parseAnswer_(answer, arrays);
}

/**
 * The JSON object in a 2xx answer, with the named members being arrays; stops with a user
 * error when it is not that.
 * @param {{method: string, url: string, status: number, text: string}} answer the answer
 * @param {Array<string>} arrays names of members that must be arrays
 * @return {Object}
 */
function parseAnswer_(answer, arrays) {
  var parsed;
  try {
    parsed = JSON.parse(answer.text);
  } catch (e) {
    throwUnreadable_(answer, 'not JSON (' + e.message + ')');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throwUnreadable_(answer, 'not a JSON object');
  }
  arrays.forEach(function(name) {
    if (!Array.isArray(parsed[name])) throwUnreadable_(answer, '"' + name + '" is not a list');
  });
  return parsed;
}

/**
 * The service path of one connector's endpoint, the id URL-encoded.
 * @param {string} connectorId e.g. 'control_tower'
 * @param {string} endpoint 'schema' or 'data'
 * @return {string}
 */
function connectorPath_(connectorId, endpoint) {
  return '/v1/connectors/' + encodeURIComponent(connectorId) + '/' + endpoint;
}
