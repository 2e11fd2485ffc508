/*
 * What users see when something goes wrong: one short, actionable sentence for everyone
 * (setText) and the details for admins (setDebugText, shown only when isAdminUser() is true).
 * Service messages are shown because the service writes them for people and never puts a
 * credential in them; the API key itself never appears in any error or log line.
 */

/** Longest service message shown, in characters. */
var MAX_SERVICE_MESSAGE_ = 300;

/**
 * Stop the current call with a Looker Studio user error.
 * @param {string} text what every user sees: what happened and what to do
 * @param {string=} debugText what admins also see (defaults to text)
 */
function throwUserError_(text, debugText) {
  DataStudioApp.createCommunityConnector()
      .newUserError()
      .setText(text)
      .setDebugText(debugText || text)
      .throwException();
}

/**
 * Stop with the user error that matches a failed service answer (any status but 2xx).
 * @param {{method: string, url: string, status: number, text: string, headers: Object}} answer
 *     what fetchService_ returned
 */
function throwForAnswer_(answer) {
  var error = serviceError_(answer.text);
  var debug = describeAnswer_(answer, error);
  console.warn('Ondigital service error: ' + debug);
  throwUserError_(userText_(answer, error), debug);
}

/**
 * The user-facing sentence for a failed answer, by status and the service's error code.
 * @param {{status: number, headers: Object}} answer the failed answer
 * @param {{code: string, message: string}} error the service's JSON error, if any
 * @return {string}
 */
function userText_(answer, error) {
  var status = answer.status;
  var detail = error.message ? ' (' + error.message + ')' : '';
  if (status === 401) {
    return 'Ondigital did not accept your API key' + detail + '. Reconnect this data source ' +
        'with a valid key (edit the connection and enter the key again).';
  }
  if (status === 403 && error.code === 'plan_limit') {
    return 'Your Ondigital plan does not allow this request' + detail + '. Choose a shorter ' +
        'date range or fewer rows, or upgrade your plan.';
  }
  if (status === 403) {
    return 'Your Ondigital subscription does not cover this' + detail + '. Renew the ' +
        'subscription, or choose a connector your subscription covers.';
  }
  if (status === 404) {
    return 'This Ondigital connector is not available' + detail + '. Edit the data source ' +
        'and choose another connector.';
  }
  if (status === 413) {
    return 'This request is too large for Ondigital. Use fewer fields or filter values.';
  }
  if (status === 429) {
    return 'Too many requests to Ondigital right now. Wait ' +
        retryAfterText_(answer.headers) + ' and refresh the report.';
  }
  if (status === 400) {
    return 'Ondigital could not answer this request' + detail + '. Change the chart\'s ' +
        'fields, filters or date range.';
  }
  if (status >= 500) {
    return 'The Ondigital service is unavailable right now. Try again in a few minutes.' +
        (error.message ? ' If it keeps happening, contact Ondigital support and quote: ' +
        error.message : '');
  }
  return 'Ondigital answered in an unexpected way (HTTP ' + status + '). Try again later or ' +
      'contact Ondigital support.';
}

/**
 * Stop with "service unavailable" after the request could not be made at all.
 * @param {string} method the HTTP method
 * @param {string} url the URL that could not be reached
 * @param {*} cause the exception UrlFetchApp threw
 */
function throwUnreachable_(method, url, cause) {
  var why = cause && cause.message ? cause.message : String(cause);
  console.warn('Ondigital service unreachable: ' + method.toUpperCase() + ' ' + url + ': ' + why);
  throwUserError_('The Ondigital service could not be reached. Try again in a few minutes.',
      method.toUpperCase() + ' ' + url + ' failed: ' + why);
}

/**
 * Stop because a 2xx answer was not the JSON this connector expects.
 * @param {{method: string, url: string, status: number, text: string}} answer the answer
 * @param {string} problem what was wrong with it
 */
function throwUnreadable_(answer, problem) {
  var debug = answer.method.toUpperCase() + ' ' + answer.url + ' -> HTTP ' + answer.status +
      ': ' + problem + '; body starts: ' + cleanMessage_(answer.text).slice(0, 200);
  console.warn('Ondigital service answer unreadable: ' + debug);
  throwUserError_('The Ondigital service sent an answer this connector cannot read. Try again ' +
      'in a few minutes; if it keeps happening, contact Ondigital support.', debug);
}

/**
 * The service's `{"error": code, "message": text}` body, or empty strings when the body is
 * something else (a proxy's HTML page, say).
 * @param {string} text the response body
 * @return {{code: string, message: string}}
 */
function serviceError_(text) {
  var parsed;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return {code: '', message: ''};
  }
  if (!parsed || typeof parsed !== 'object') return {code: '', message: ''};
  return {code: cleanMessage_(parsed.error), message: cleanMessage_(parsed.message)};
}

/**
 * A service string made safe to show: text only, one line, at most MAX_SERVICE_MESSAGE_ long.
 * @param {*} value anything
 * @return {string}
 */
function cleanMessage_(value) {
  if (typeof value !== 'string') return '';
  var text = value.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return text.length > MAX_SERVICE_MESSAGE_ ? text.slice(0, MAX_SERVICE_MESSAGE_ - 1) + '…' : text;
}

/**
 * The admin's view of a failed answer: method, URL, status, code, message, Retry-After.
 * @param {{method: string, url: string, status: number, headers: Object}} answer the answer
 * @param {{code: string, message: string}} error the service's JSON error, if any
 * @return {string}
 */
function describeAnswer_(answer, error) {
  var out = answer.method.toUpperCase() + ' ' + answer.url + ' -> HTTP ' + answer.status;
  if (error.code) out += ' ' + error.code;
  if (error.message) out += ': ' + error.message;
  var retry = headerValue_(answer.headers, 'Retry-After');
  if (retry) out += ' (Retry-After: ' + cleanMessage_(retry) + ')';
  return out;
}

/**
 * "7 seconds" from a Retry-After header in seconds, or "a minute" when absent or a date.
 * @param {Object} headers response headers
 * @return {string}
 */
function retryAfterText_(headers) {
  var seconds = parseInt(headerValue_(headers, 'Retry-After'), 10);
  if (!(seconds > 0)) return 'a minute';
  return seconds === 1 ? '1 second' : seconds + ' seconds';
}

/**
 * A response header by name, ignoring case (servers and proxies spell them differently).
 * @param {Object} headers as HTTPResponse.getHeaders() returns them
 * @param {string} name the header name
 * @return {string} its value, or ''
 */
function headerValue_(headers, name) {
  var wanted = name.toLowerCase();
  for (var key in headers || {}) {
    if (key.toLowerCase() === wanted) return String(headers[key]);
  }
  return '';
}

/**
 * Looker Studio calls this to decide who sees debug texts and stack traces: only the
 * e-mails listed in the script property ADMIN_EMAILS (comma or space separated).
 * @return {boolean}
 */
function isAdminUser() {
  var admins = scriptSetting_(ADMIN_EMAILS_PROPERTY_).toLowerCase().split(/[\s,;]+/);
  var email = '';
  try {
    email = String(Session.getEffectiveUser().getEmail() || '').trim().toLowerCase();
  } catch (e) {
    return false;
  }
  return email !== '' && admins.indexOf(email) !== -1;
}
