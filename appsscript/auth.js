/*
 * KEY authentication: each Looker Studio user enters an Ondigital API key once; it is checked
 * against the service and kept in that user's own properties (never in script properties,
 * config fields or caches, which others could read).
 */

/** User property holding the API key (the name Looker Studio's templates use). */
var KEY_PROPERTY_ = 'dscc.key';
/** Where users learn how to get an API key. */
var API_KEY_HELP_URL_ = 'https://ondigital.example/connect/help/api-keys';
/** Longer "keys" are not keys; refused without calling the service. */
var MAX_KEY_LENGTH_ = 512;

/**
 * Looker Studio asks which credentials to collect: an API key, with a help link.
 * @return {Object} the auth type response
 */
function getAuthType() {
  var cc = DataStudioApp.createCommunityConnector();
  return cc.newAuthTypeResponse()
      .setAuthType(cc.AuthType.KEY)
      .setHelpUrl(API_KEY_HELP_URL_)
      .build();
}

/**
 * Looker Studio passes the key the user entered. It is stored only when the service accepts
 * it (GET /v1/connectors answers 200), so a typo is caught here instead of in every chart.
 * A 403 here means the key is fine but the Google identity token maps to no subscription;
 * the pair is refused as a whole (the reason goes to the logs, not to the user).
 * A service that cannot be reached stops with a user error instead of calling a good key bad.
 * @param {{key: string}} request the credentials request
 * @return {{errorCode: string}} 'NONE' when stored, 'INVALID_CREDENTIALS' otherwise
 */
function setCredentials(request) {
  var key = request && typeof request.key === 'string' ? request.key.trim() : '';
  if (!key || key.length > MAX_KEY_LENGTH_ || /\s/.test(key)) {
    return {errorCode: 'INVALID_CREDENTIALS'};
  }
  var answer = fetchService_('get', '/v1/connectors', undefined, key);
  if (answer.status === 401 || answer.status === 403) {
    console.warn('API key refused: ' + describeAnswer_(answer, serviceError_(answer.text)));
    return {errorCode: 'INVALID_CREDENTIALS'};
  }
  if (answer.status !== 200) throwForAnswer_(answer);
  parseAnswer_(answer, ['connectors']);
  PropertiesService.getUserProperties().setProperty(KEY_PROPERTY_, key);
  return {errorCode: 'NONE'};
}

/**
 * Whether a key is stored. Looker Studio calls this often, so it makes no network call:
 * a key revoked later shows up as a clear 401 user error on the next request.
 * @return {boolean}
 */
function isAuthValid() {
  return storedKey_() !== '';
}

/** Forget the stored key (Looker Studio's "revoke access"). */
function resetAuth() {
  PropertiesService.getUserProperties().deleteProperty(KEY_PROPERTY_);
}

/**
 * The current user's stored API key, or ''.
 * @return {string}
 */
function storedKey_() {
  return PropertiesService.getUserProperties().getProperty(KEY_PROPERTY_) || '';
}
