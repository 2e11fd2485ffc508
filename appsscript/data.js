/*
 * getSchema and getData: forwarded to the service, answered with what it returns. The
 * getData request goes out exactly as Looker Studio sent it, and the rows come back
 * untouched (numbers as exact decimal strings, dates as YYYYMMDD). Nothing is cached here:
 * the service caches per tenant, and Apps Script caches are shared too widely for tenant data.
 */

/**
 * Looker Studio asks for every field the chosen connector offers.
 * @param {{configParams: Object}} request the schema request
 * @return {{schema: Array<Object>}}
 */
function getSchema(request) {
  var configParams = (request && request.configParams) || {};
  var connectorId = chosenConnector_(configParams);
  var answer = callService_('post', connectorPath_(connectorId, 'schema'),
      JSON.stringify({configParams: configParams}), ['schema']);
  return {schema: answer.schema};
}

/**
 * Looker Studio asks for rows: the request is posted to the service unchanged.
 * @param {Object} request the getData request (fields, dateRange, dimensionsFilters, ...)
 * @return {{schema: Array<Object>, rows: Array<{values: Array}>, filtersApplied: boolean}}
 */
function getData(request) {
  var connectorId = chosenConnector_((request && request.configParams) || {});
  var answer = callService_('post', connectorPath_(connectorId, 'data'), JSON.stringify(request),
      ['schema', 'rows']);
  return {schema: answer.schema, rows: answer.rows, filtersApplied: answer.filtersApplied === true};
}

/**
 * The connector to ask: the deployment's fixed one, else the one chosen in the config.
 * @param {Object} configParams the data source's settings
 * @return {string}
 */
function chosenConnector_(configParams) {
  var id = fixedConnectorId_() || String(configParams[CONNECTOR_FIELD_] || '').trim();
  if (!id) {
    throwUserError_('No Ondigital connector is chosen for this data source. Edit the data ' +
        'source and choose one.', 'configParams.' + CONNECTOR_FIELD_ +
        ' is empty and script property ' + CONNECTOR_PROPERTY_ + ' is not set.');
  }
  return id;
}
