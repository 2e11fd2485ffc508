/*
 * The data source's settings page: which connector to read (unless the deployment is fixed
 * to one), any options that connector declares, and a required date range (the service
 * needs dateRange on every getData).
 */

/** Config field holding the chosen connector id (its value reaches getSchema/getData). */
var CONNECTOR_FIELD_ = 'connector';

/**
 * Extra settings a connector declares, by connector id: a list of text inputs
 * {id, name, helpText, placeholder}. None today; add an entry here when a connector needs one.
 */
var CONNECTOR_OPTIONS_ = {};

/**
 * Looker Studio asks what to show on the settings page.
 * @param {{languageCode: string, configParams: Object=}} request the config request
 * @return {Object} the built config
 */
function getConfig(request) {
  var config = DataStudioApp.createCommunityConnector().getConfig();
  var params = (request && request.configParams) || {};
  var fixed = fixedConnectorId_();
  var chosen = fixed || params[CONNECTOR_FIELD_] || '';
  if (fixed) {
    config.newInfo().setId('connector_info')
        .setText('This data source reads the "' + fixed + '" data of your Ondigital account.');
  } else {
    var select = addConnectorSelect_(config, listConnectors_());
    if (!chosen && hasDeclaredOptions_()) {
      select.setIsDynamic(true);
      config.setIsSteppedConfig(true);
    }
  }
  addConnectorOptions_(config, chosen);
  config.setDateRangeRequired(true);
  return config.build();
}

/**
 * The connectors the stored key may use, from GET /v1/connectors. A key with none stops
 * here with a user error, since no choice would work.
 * @return {Array<{id: string, label: string, plan: string}>}
 */
function listConnectors_() {
  var listing = callService_('get', '/v1/connectors', undefined, ['connectors']);
  var usable = listing.connectors.filter(function(item) {
    return item && typeof item.id === 'string' && item.id !== '';
  });
  if (usable.length === 0) {
    throwUserError_('Your Ondigital API key has no active subscription. Renew a subscription, ' +
        'or reconnect with the key of an account that has one.',
        'GET /v1/connectors listed no connectors for this key (tenant ' +
        cleanMessage_(listing.tenant) + ').');
  }
  return usable;
}

/**
 * A single-select of the given connectors, labelled "Label (plan plan)".
 * @param {Object} config the config builder
 * @param {Array<{id: string, label: string, plan: string}>} connectors the choices
 * @return {Object} the select builder (so the caller can make it dynamic)
 */
function addConnectorSelect_(config, connectors) {
  var select = config.newSelectSingle()
      .setId(CONNECTOR_FIELD_)
      .setName('Connector')
      .setHelpText('Which Ondigital data this data source reads. Only the connectors your ' +
          'subscription covers are listed.');
  connectors.forEach(function(item) {
    var label = cleanMessage_(item.label) || item.id;
    if (cleanMessage_(item.plan)) label += ' (' + cleanMessage_(item.plan) + ' plan)';
    select.addOption(config.newOptionBuilder().setLabel(label).setValue(item.id));
  });
  return select;
}

/**
 * Whether any connector declares settings of its own (then the choice must come first).
 * @return {boolean}
 */
function hasDeclaredOptions_() {
  return Object.keys(CONNECTOR_OPTIONS_).some(function(id) {
    return (CONNECTOR_OPTIONS_[id] || []).length > 0;
  });
}

/**
 * Text inputs for the settings the chosen connector declares (none today).
 * @param {Object} config the config builder
 * @param {string} connectorId the chosen connector, or '' while not chosen yet
 */
function addConnectorOptions_(config, connectorId) {
  var options = (connectorId && CONNECTOR_OPTIONS_[connectorId]) || [];
  options.forEach(function(option) {
    var input = config.newTextInput().setId(option.id).setName(option.name);
    if (option.helpText) input.setHelpText(option.helpText);
    if (option.placeholder) input.setPlaceholder(option.placeholder);
  });
}
