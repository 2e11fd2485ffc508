/*
 * A fake of Apps Script's DataStudioApp for the vm sandbox: the community connector object
 * with its enums, the auth-type/config/fields/getData builders and user/debug errors.
 * Builders are chainable and validate what the real ones reject (a config element without an
 * id, duplicate ids, an option without label or value, a user error without text), so a
 * connector that passes here does not fail on those in Apps Script.
 */
'use strict';

const AUTH_TYPES = ['NONE', 'OAUTH2', 'USER_PASS', 'KEY', 'USER_TOKEN', 'PATH_USER_PASS',
  'PATH_KEY'];
const AGGREGATIONS = ['AVG', 'COUNT', 'COUNT_DISTINCT', 'MAX', 'MIN', 'SUM', 'AUTO',
  'NO_AGGREGATION'];
const CURRENCIES = ('AED ARS AUD BDT BGN BOB BRL CAD CDF CHF CLP CNY COP CRC CZK DKK EGP EUR ' +
  'GBP HKD HRK HUF IDR ILS INR IRR ISK JMD JPY KRW LKR LTL MNT MVR MXN MYR NGN NOK NZD PAB PEN ' +
  'PHP PKR PLN RON RSD RUB SAR SEK SGD THB TRY TWD TZS UAH USD UYU VEF VND YER ZAR').split(' ');
const NUMERIC_TYPES = ['NUMBER', 'PERCENT', 'DURATION', 'LATITUDE_LONGITUDE'];
const FIELD_TYPES = [
  'YEAR', 'YEAR_QUARTER', 'YEAR_MONTH', 'YEAR_WEEK', 'YEAR_MONTH_DAY', 'YEAR_MONTH_DAY_HOUR',
  'YEAR_MONTH_DAY_MINUTE', 'YEAR_MONTH_DAY_SECOND', 'QUARTER', 'MONTH', 'WEEK', 'MONTH_DAY',
  'DAY_OF_WEEK', 'DAY', 'HOUR', 'MINUTE', 'DURATION', 'COUNTRY', 'COUNTRY_CODE', 'CONTINENT',
  'CONTINENT_CODE', 'SUB_CONTINENT', 'SUB_CONTINENT_CODE', 'REGION', 'REGION_CODE', 'CITY',
  'CITY_CODE', 'METRO', 'METRO_CODE', 'LATITUDE_LONGITUDE', 'NUMBER', 'PERCENT', 'TEXT',
  'BOOLEAN', 'URL', 'HYPERLINK', 'IMAGE', 'IMAGE_LINK',
  ...CURRENCIES.map((c) => `CURRENCY_${c}`)];

/** An enum object as Apps Script exposes them: NAME -> 'NAME', frozen. */
function enumOf(names) {
  return Object.freeze(Object.fromEntries(names.map((n) => [n, n])));
}

/** The error a user error's throwException() throws; tests inspect text and debugText. */
class UserError extends Error {
  constructor(text, debugText, kind) {
    super(text);
    this.name = kind === 'debug' ? 'DebugError' : 'UserError';
    this.userError = kind !== 'debug';
    this.debugError = kind === 'debug';
    this.text = text;
    this.debugText = debugText;
  }
}

/** newUserError()/newDebugError(): setText, setDebugText, printJson, throwException. */
function errorBuilder(kind) {
  const state = {text: '', debugText: ''};
  const builder = {
    setText(text) { state.text = String(text); return builder; },
    setDebugText(text) { state.debugText = String(text); return builder; },
    printJson() { return JSON.stringify(state); },
    throwException() {
      if (!state.text && kind !== 'debug') throw new TypeError('user error without text');
      throw new UserError(state.text, state.debugText, kind);
    },
  };
  return builder;
}

/** Setters that record into `target[key]` and return the builder. */
function setters(builder, target, names) {
  for (const [method, key, convert] of names) {
    builder[method] = (value) => { target[key] = convert ? convert(value) : value; return builder; };
  }
  return builder;
}

/** One config element (info, text input, select, checkbox) and its JSON form. */
function configElement(type) {
  const json = {type};
  const builder = setters({}, json, [
    ['setId', 'name', String], ['setName', 'displayName', String],
    ['setHelpText', 'helpText', String], ['setPlaceholder', 'placeholder', String],
    ['setText', 'text', String], ['setIsDynamic', 'isDynamic', Boolean],
  ]);
  builder.setAllowOverride = (allow) => {
    json.parameterControl = {allowOverride: Boolean(allow)};
    return builder;
  };
  if (type === 'SELECT_SINGLE' || type === 'SELECT_MULTIPLE') {
    json.options = [];
    builder.addOption = (option) => { json.options.push(option.build()); return builder; };
  }
  return {builder, json};
}

/** cc.getConfig(): the config builder; build() gives the JSON Looker Studio reads. */
function configBuilder() {
  const elements = [];
  const state = {};
  const add = (type) => () => { const e = configElement(type); elements.push(e); return e.builder; };
  const config = {
    newInfo: add('INFO'), newTextInput: add('TEXTINPUT'), newTextArea: add('TEXTAREA'),
    newSelectSingle: add('SELECT_SINGLE'), newSelectMultiple: add('SELECT_MULTIPLE'),
    newCheckbox: add('CHECKBOX'),
    newOptionBuilder() {
      const option = {};
      const builder = setters({}, option, [['setLabel', 'label', String],
        ['setValue', 'value', String]]);
      builder.build = () => {
        if (!option.label || option.value === undefined) {
          throw new Error('an option needs a label and a value');
        }
        return {...option};
      };
      return builder;
    },
    setDateRangeRequired(v) { state.dateRangeRequired = Boolean(v); return config; },
    setIsSteppedConfig(v) { state.isSteppedConfig = Boolean(v); return config; },
    build() {
      const seen = new Set();
      for (const {json} of elements) {
        if (!json.name) throw new Error(`config element ${json.type} has no id`);
        if (seen.has(json.name)) throw new Error(`duplicate config id ${json.name}`);
        seen.add(json.name);
      }
      return {configParams: elements.map((e) => JSON.parse(JSON.stringify(e.json))), ...state};
    },
    printJson() { return JSON.stringify(config.build()); },
  };
  return config;
}

/** Looker's dataType for a field type: NUMBER, BOOLEAN or STRING. */
function dataTypeOf(type) {
  if (type === 'BOOLEAN') return 'BOOLEAN';
  if (NUMERIC_TYPES.includes(type) || type.startsWith('CURRENCY_')) return 'NUMBER';
  return 'STRING';
}

/** A field builder (newDimension/newMetric) and its JSON form. */
function fieldBuilder(conceptType) {
  const f = {conceptType, type: 'TEXT'};
  const builder = setters({}, f, [
    ['setId', 'id', String], ['setName', 'name', String], ['setDescription', 'description', String],
    ['setFormula', 'formula', String], ['setGroup', 'group', String],
    ['setIsHidden', 'isHidden', Boolean], ['setIsReaggregatable', 'isReaggregatable', Boolean],
  ]);
  builder.setType = (type) => {
    if (!FIELD_TYPES.includes(type)) throw new Error(`unknown field type ${type}`);
    f.type = type;
    return builder;
  };
  builder.setAggregation = (agg) => {
    if (!AGGREGATIONS.includes(agg)) throw new Error(`unknown aggregation ${agg}`);
    f.aggregation = agg;
    return builder;
  };
  builder.getId = () => f.id;
  builder.getType = () => f.type;
  builder.isDimension = () => conceptType === 'DIMENSION';
  builder.isMetric = () => conceptType === 'METRIC';
  builder.toJson = () => {
    if (!f.id) throw new Error('a field needs an id');
    const json = {name: f.id, label: f.name || f.id, dataType: dataTypeOf(f.type),
      semantics: {conceptType, semanticType: f.type}};
    if (f.description) json.description = f.description;
    if (f.formula) json.formula = f.formula;
    if (f.group) json.group = f.group;
    if (f.isHidden !== undefined) json.isHidden = f.isHidden;
    if (f.isReaggregatable !== undefined) json.semantics.isReaggregatable = f.isReaggregatable;
    if (f.aggregation) json.defaultAggregationType = f.aggregation;
    return json;
  };
  return builder;
}

/** cc.getFields(): a list of field builders. */
function fieldsBuilder(initial) {
  const list = initial || [];
  const fields = {
    newDimension() { const b = fieldBuilder('DIMENSION'); list.push(b); return b; },
    newMetric() { const b = fieldBuilder('METRIC'); list.push(b); return b; },
    asArray: () => list.slice(),
    getFieldById: (id) => list.find((b) => b.getId() === id) || null,
    forIds(ids) {
      return fieldsBuilder(ids.map((id) => {
        const b = fields.getFieldById(id);
        if (!b) throw new Error(`no field ${id}`);
        return b;
      }));
    },
    build: () => list.map((b) => b.toJson()),
  };
  return fields;
}

/** cc.newGetDataResponse(): fields, rows, filtersApplied -> {schema, rows, filtersApplied}. */
function getDataResponseBuilder() {
  const state = {fields: null, rows: [], filtersApplied: false};
  const builder = {
    setFields(fields) { state.fields = fields; return builder; },
    addRow(values) { state.rows.push({values: values.slice()}); return builder; },
    addAllRows(rows) { rows.forEach((r) => builder.addRow(r)); return builder; },
    setFiltersApplied(v) { state.filtersApplied = Boolean(v); return builder; },
    build() {
      if (!state.fields) throw new Error('getData response without fields');
      return {schema: state.fields.build(), rows: state.rows, filtersApplied: state.filtersApplied};
    },
  };
  return builder;
}

/** DataStudioApp: createCommunityConnector() and the enums on the connector object. */
function createDataStudioApp() {
  const enums = {AuthType: enumOf(AUTH_TYPES), FieldType: enumOf(FIELD_TYPES),
    AggregationType: enumOf(AGGREGATIONS)};
  return Object.freeze({
    createCommunityConnector() {
      return {
        ...enums,
        newAuthTypeResponse() {
          const out = {};
          const builder = {
            setAuthType(t) {
              if (!AUTH_TYPES.includes(t)) throw new Error(`unknown auth type ${t}`);
              out.type = t;
              return builder;
            },
            setHelpUrl(url) { out.helpUrl = String(url); return builder; },
            build() {
              if (!out.type) throw new Error('auth type response without a type');
              return {...out};
            },
          };
          return builder;
        },
        getConfig: configBuilder,
        getFields: () => fieldsBuilder(),
        newGetDataResponse: getDataResponseBuilder,
        newGetSchemaResponse() {
          let fields = null;
          const builder = {
            setFields(f) { fields = f; return builder; },
            build: () => ({schema: fields.build()}),
          };
          return builder;
        },
        newUserError: () => errorBuilder('user'),
        newDebugError: () => errorBuilder('debug'),
      };
    },
  });
}

module.exports = {createDataStudioApp, UserError, FIELD_TYPES, AUTH_TYPES, AGGREGATIONS};
