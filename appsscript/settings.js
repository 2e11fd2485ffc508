/*
 * Deployment settings: the script properties set once per deployment
 * (Apps Script editor > Project settings > Script properties). Nothing secret lives here;
 * each user's API key is kept in that user's own properties (see auth.js).
 */

/** Script property: the connector service's base URL, e.g. https://connect.ondigital.example/ */
var SERVICE_URL_PROPERTY_ = 'SERVICE_URL';
/** Script property: a connector id that this deployment is fixed to (optional). */
var CONNECTOR_PROPERTY_ = 'CONNECTOR';
/** Script property: comma-separated e-mails that see error details (optional). */
var ADMIN_EMAILS_PROPERTY_ = 'ADMIN_EMAILS';
/** Script property: set to "false" to stop sending Google identity tokens (optional). */
var SEND_IDENTITY_TOKEN_PROPERTY_ = 'SEND_IDENTITY_TOKEN';

/**
 * One script property, trimmed, or '' when unset. Read on every call (no caching), because
 * Apps Script gives no per-execution state that outlives a call anyway and properties are cheap.
 * @param {string} name the property name
 * @return {string} the value, or ''
 */
function scriptSetting_(name) {
  var value = PropertiesService.getScriptProperties().getProperty(name);
  return value === null || value === undefined ? '' : String(value).trim();
}

/**
 * The service's base URL without trailing slashes. A deployment without SERVICE_URL cannot do
 * anything useful, so this stops with an error that tells the user whom to ask and the admin
 * what to set.
 * @return {string} e.g. 'https://connect.ondigital.example'
 */
function serviceBaseUrl_() {
  var url = scriptSetting_(SERVICE_URL_PROPERTY_);
  if (!url) {
    throwUserError_('This connector is not set up yet (its service address is missing). ' +
        'Please contact Ondigital support.',
        'Script property ' + SERVICE_URL_PROPERTY_ + ' is not set ' +
        '(Apps Script editor > Project settings > Script properties).');
  }
  if (!/^https?:\/\/[^\s\/?#]+/i.test(url)) {
    throwUserError_('This connector is set up with an invalid service address. ' +
        'Please contact Ondigital support.',
        'Script property ' + SERVICE_URL_PROPERTY_ + ' is not an http(s) URL: ' + url);
  }
  return url.replace(/\/+$/, '');
}

/**
 * The connector id this deployment is fixed to, or '' when users choose one in getConfig.
 * @return {string}
 */
function fixedConnectorId_() {
  return scriptSetting_(CONNECTOR_PROPERTY_);
}

/**
 * Whether to send the Google identity token with each call. On unless SEND_IDENTITY_TOKEN is
 * "false": a service without identity audiences configured rejects any token with 401.
 * @return {boolean}
 */
function identityTokensEnabled_() {
  return scriptSetting_(SEND_IDENTITY_TOKEN_PROPERTY_).toLowerCase() !== 'false';
}
