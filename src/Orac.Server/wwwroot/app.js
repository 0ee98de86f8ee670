// Orac's web UI: the profile view's state lives in the URL query string (shareable, reloadable),
// the fleet, task and opportunities views are routed by the fragment (#view=fleet, #view=task&id=ID,
// #view=opportunities); the token lives in sessionStorage. Everything the page shows comes from the
// documented API (docs/api.md, docs/fleet.md, docs/cost.md).

import { getJson, download, exportSuffix, takeToken, storeToken, forgetToken, ApiError } from './http.js';
import { FlameGraph, compileSearch } from './flame.js';
import { SeriesChart } from './series.js';
import { formatValue, formatPercent, formatUsd, formatKwh, formatCo2e, formatDateTime, unitWords } from './format.js';
import { FleetView } from './fleet.js';
import { TaskView } from './task.js';
import { OpportunitiesView } from './opportunities.js';

const $ = (id) => document.getElementById(id);
const PRESETS = ['15m', '1h', '6h', '24h', '7d'];
const DEFAULT_TYPE_HINT = 'process_cpu:cpu:nanoseconds:cpu:nanoseconds';
/** Priced frame widths the server offers (GET /api/v1/query?unit=…, docs/cost.md). */
const PRICED_UNITS = ['usd', 'kwh', 'co2e'];

// ---- state <-> URL ---------------------------------------------------------------------------

function readState() {
  const q = new URLSearchParams(window.location.search);
  return {
    service: q.get('service') || '',
    type: q.get('type') || '',
    from: q.get('from') || 'now-1h',
    until: q.get('until') || 'now',
    labels: q.getAll('label').map((kv) => {
      const i = kv.indexOf('=');
      return i > 0 ? [kv.slice(0, i), kv.slice(i + 1)] : null;
    }).filter(Boolean),
    view: q.get('view') === 'icicle' ? 'icicle' : 'flame',
    search: q.get('search') || '',
    mode: q.get('mode') === 'diff' ? 'diff' : 'single',
    baseService: q.get('baseService') || '',
    baseFrom: q.get('baseFrom') || '',
    baseUntil: q.get('baseUntil') || '',
    order: q.get('order') === 'total' ? 'total' : 'self',
    zoom: q.get('zoom') || '',
    unit: PRICED_UNITS.includes(q.get('unit')) ? q.get('unit') : '',
  };
}

let state = readState();

function writeState(push) {
  const q = new URLSearchParams();
  if (state.service) q.set('service', state.service);
  if (state.type) q.set('type', state.type);
  q.set('from', state.from);
  q.set('until', state.until);
  for (const [k, v] of state.labels) q.append('label', `${k}=${v}`);
  if (state.view !== 'flame') q.set('view', state.view);
  if (state.search) q.set('search', state.search);
  if (state.mode === 'diff') {
    q.set('mode', 'diff');
    if (state.baseService) q.set('baseService', state.baseService);
    if (state.baseFrom) q.set('baseFrom', state.baseFrom);
    if (state.baseUntil) q.set('baseUntil', state.baseUntil);
  }
  if (state.order !== 'self') q.set('order', state.order);
  if (state.unit) q.set('unit', state.unit);
  if (state.zoom) q.set('zoom', state.zoom);
  const url = `${window.location.pathname}?${q.toString()}${window.location.hash}`;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
  routedUrl = window.location.href;
}

/** Prometheus-style selector for a service and label filters (values escaped). */
function selector(service, labels) {
  const esc = (v) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const parts = [];
  if (service) parts.push(`service_name="${esc(service)}"`);
  for (const [k, v] of labels) parts.push(`${k}="${esc(v)}"`);
  return `{${parts.join(',')}}`;
}

/**
 * The service and equality label filters of a selector the profile view can show (`api`,
 * `{service_name="api",zone="b"}`); null for anything else (regex or negative matchers).
 */
export function parseSelector(text) {
  const s = String(text || '').trim();
  if (s === '' || s === '{}') return { service: '', labels: [] };
  if (/^[A-Za-z0-9_.:-]+$/.test(s)) return { service: s, labels: [] };
  const m = /^\{(.*)\}$/.exec(s);
  if (!m) return null;
  const out = { service: '', labels: [] };
  const re = /\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(,|$)/y;
  let at = 0;
  const body = m[1];
  while (at < body.length) {
    re.lastIndex = at;
    const p = re.exec(body);
    if (!p) return null;
    const value = p[2].replace(/\\(.)/g, '$1');
    if (p[1] === 'service_name') out.service = value;
    else out.labels.push([p[1], value]);
    at = re.lastIndex;
  }
  return out;
}

/** Client-side reading of the time forms the server accepts, to draw axes and pick a step. */
export function parseTime(text, nowMs) {
  const s = String(text).trim();
  if (s === '' || s === 'now') return nowMs;
  const rel = /^now-(\d+(?:\.\d+)?)([smhdw])$/.exec(s);
  if (rel) return nowMs - Number(rel[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 604800e3 }[rel[2]];
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    return n < 1e11 ? n * 1e3 : n < 1e14 ? n : n / 1e6;
  }
  const t = Date.parse(s);
  return Number.isNaN(t) ? nowMs : t;
}

function rangeWords() {
  const m = /^now-(\d+[smhdw])$/.exec(state.from);
  if (m && state.until === 'now') return `in the last ${m[1]}`;
  return `between ${state.from} and ${state.until}`;
}

function isoSeconds(ms) {
  return new Date(Math.round(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

// ---- status line -------------------------------------------------------------------------------

let settled = 0;

function setStatus(kind, text) {
  document.body.dataset.state = kind;
  // Counts finished loads (anything but "loading") so automation can wait for the next one.
  if (kind !== 'loading') document.body.dataset.settled = String(++settled);
  const el = $('status');
  el.className = kind;
  el.textContent = text;
  $('flame-box').setAttribute('aria-busy', kind === 'loading' ? 'true' : 'false');
}

function showError(e) {
  if (e instanceof ApiError && e.status === 401) {
    forgetToken();
    askToken(`The server refused the token: ${e.message}`);
  }
  setStatus('error', e instanceof ApiError ? `Error ${e.status || ''}: ${e.message}` : `Error: ${e.message}`);
}

// ---- token -------------------------------------------------------------------------------------

function askToken(message) {
  $('token-error').textContent = message || '';
  const d = $('token-dialog');
  if (!d.open) d.showModal();
  $('token-input').focus();
}

// ---- views ---------------------------------------------------------------------------------------

let graph;
let chart;
let loadSeq = 0;
let tree = null;
let lastSeries = null;

/** Overlays one function's value over time (top-table pick) on the series chart. */
async function overlayFunction(name) {
  if (!lastSeries) return;
  const { series, t0, t1, ranges } = lastSeries;
  try {
    const fn = await getJson('/api/v1/query/series', {
      ...commonParams(), from: isoSeconds(t0), until: isoSeconds(t1), step: stepFor(t1 - t0), function: name,
    });
    if (lastSeries && lastSeries.series === series) chart.setData(series, t0, t1, ranges, fn, name);
  } catch (e) {
    showError(e);
  }
}

/** Only CPU time is priced (docs/cost.md): `unit=` needs a `process_cpu:cpu:nanoseconds:…` profile type. */
function priceable(type) {
  return String(type || '').startsWith('process_cpu:cpu:nanoseconds:');
}

/**
 * The priced unit frames are drawn in (`usd`, `kwh`, `co2e`), or '' for the profile's own values: a diff
 * compares shares of the profile's own values, and only CPU-time profiles are priced.
 */
function pricedUnit() {
  return state.mode === 'diff' || !priceable(state.type) ? '' : state.unit;
}

/** The sample unit of a profile type id (`process_cpu:cpu:nanoseconds:cpu:nanoseconds` → `nanoseconds`). */
function typeUnit(type) {
  const parts = String(type || '').split(':');
  return parts.length >= 3 ? parts[2] : '';
}

// ---- cost strip ------------------------------------------------------------------------------------

let lastCost = null;

function basisTag(basis) {
  const b = document.createElement('span');
  b.className = `basis basis-${basis === 'measured' || basis === 'projection' ? basis : basis === 'estimated' ? 'estimated' : 'mixed'}`;
  b.textContent = basis;
  return b;
}

/** The cost strip beside the flame graph: GET /api/v1/cost for the same selection and range (docs/cost.md). */
function renderCost(cost) {
  const figures = $('cost-figures');
  const notes = $('cost-notes');
  const banner = $('cost-partial');
  const box = $('cost');
  figures.replaceChildren();
  notes.replaceChildren();
  banner.hidden = true;
  $('cost-error').textContent = '';
  $('cost-period').textContent = '';
  lastCost = null;
  for (const k of ['usd', 'attributedUsd', 'idleUsd', 'yearUsd', 'partial']) delete box.dataset[k];
  if (!cost) return;
  if (cost instanceof Error) {
    $('cost-error').textContent = `Cost not available: ${cost.message}`;
    box.dataset.error = cost instanceof ApiError ? String(cost.status) : 'network';
    return;
  }
  delete box.dataset.error;
  lastCost = cost;
  const total = cost.total || {};
  const idle = cost.idle || {};
  const year = cost.projectedPerYear || {};
  const attributed = {
    usd: (total.usd || 0) - (idle.usd || 0),
    kwh: (total.kwh || 0) - (idle.kwh || 0),
    kgCo2e: (total.kgCo2e || 0) - (idle.kgCo2e || 0),
  };
  box.dataset.usd = String(total.usd || 0);
  box.dataset.attributedUsd = String(attributed.usd);
  box.dataset.idleUsd = String(idle.usd || 0);
  box.dataset.yearUsd = String(year.usd || 0);
  box.dataset.partial = String(Boolean(cost.partial));
  $('cost-period').textContent = `${formatDateTime(cost.from)} → ${formatDateTime(cost.until)} · model: ${cost.model || 'server default'}`;
  const row = (id, label, f, basis, title) => {
    const dt = document.createElement('dt');
    dt.textContent = label;
    if (title) dt.title = title;
    const dd = document.createElement('dd');
    dd.id = id;
    dd.textContent = `${formatUsd(f.usd || 0)} · ${formatKwh(f.kwh || 0)} · ${formatCo2e(f.kgCo2e || 0)}`;
    dd.append(basisTag(basis));
    figures.append(dt, dd);
  };
  // Money is always estimated (usage × prices); energy, and the CO2e derived from it, may be partly measured (RAPL, GPU power).
  const basisOf = (f) => (!f.energyBasis || f.energyBasis === 'estimated' ? 'estimated' : `$ estimated, energy ${f.energyBasis}`);
  row('cost-total', 'Total', total, basisOf(total),
    'Everything selected: attributed to functions plus idle. Money is always estimated (usage × the model\'s prices).');
  row('cost-attributed', 'Attributed', attributed, basisOf(total), 'Total minus idle: what the functions in the flame graph account for');
  row('cost-idle', 'Idle / unattributed', idle, basisOf(idle), 'Idle power, unused billed capacity, memory baseline: never spread over workloads');
  row('cost-year', 'Per year', year, 'projection', 'The total scaled from this period to a year: assumes the period repeats');
  const cpu = document.createElement('dt');
  cpu.textContent = 'Usage';
  const cpuText = document.createElement('dd');
  cpuText.textContent = `${formatValue((total.cpuSeconds || 0) * 1e9, 'nanoseconds')} CPU`
    + `${total.gpuSeconds ? ` · ${formatValue(total.gpuSeconds * 1e9, 'nanoseconds')} GPU` : ''}`;
  cpuText.append(basisTag('measured'));
  figures.append(cpu, cpuText);
  if (cost.partial) {
    banner.hidden = false;
    banner.textContent = 'PARTIAL: some data was missing or could not be priced (see the notes).';
  }
  for (const n of cost.notes || []) {
    const li = document.createElement('li');
    li.textContent = n;
    notes.append(li);
  }
}

function commonParams() {
  return { query: selector(state.service, state.labels), type: state.type, from: state.from, until: state.until };
}

function baseParams() {
  return {
    baseQuery: selector(state.baseService || state.service, state.labels),
    baseFrom: state.baseFrom || undefined,
    baseUntil: state.baseUntil || undefined,
  };
}

function stepFor(spanMs) {
  const steps = [10, 30, 60, 300, 900, 3600, 21600, 86400];
  const want = spanMs / 1000 / 240;
  for (const s of steps) if (s >= want) return `${s}s`;
  return '86400s';
}

async function loadView() {
  const seq = ++loadSeq;
  writeState(false);
  syncControls();
  if (!state.service) {
    setStatus('empty', 'No services have data yet: send profiles to POST /ingest or /api/v1/profiles.');
    return;
  }
  setStatus('loading', `Loading ${state.service}…`);
  const now = Date.now();
  const fromMs = parseTime(state.from, now);
  const untilMs = parseTime(state.until, now);
  let t0 = fromMs;
  let t1 = untilMs;
  const ranges = [];
  if (state.mode === 'diff') {
    const bf = parseTime(state.baseFrom || state.from, now);
    const bu = parseTime(state.baseUntil || state.until, now);
    t0 = Math.min(t0, bf);
    t1 = Math.max(t1, bu);
    ranges.push({ from: bf, until: bu, kind: 'base' }, { from: fromMs, until: untilMs, kind: 'comparison' });
  }
  const p = commonParams();
  // Priced widths: the server prices each host's values with its cost model (docs/cost.md); a diff stays in the
  // profile's own unit (the toggle is disabled there).
  const priced = pricedUnit();
  const treeReq = state.mode === 'diff'
    ? getJson('/api/v1/query/diff', { ...p, ...baseParams() })
    : getJson('/api/v1/query', priced ? { ...p, unit: priced } : p);
  // The top table of a priced graph is summed from the priced tree itself, so its figures are the graph's.
  const topReq = priced ? Promise.resolve(null) : getJson('/api/v1/query/top', { ...p, limit: 100, order: state.order });
  const seriesReq = getJson('/api/v1/query/series', { ...p, from: isoSeconds(t0), until: isoSeconds(t1), step: stepFor(t1 - t0) });
  // The cost strip has its own error line: a server without cost figures still shows profiles.
  const costReq = getJson('/api/v1/cost', { query: p.query, from: state.from, until: state.until }).catch((e) => {
    if (e instanceof ApiError && e.status === 401) throw e;
    return e;
  });
  try {
    // The flame tree is the view; the top table and the series are side panels whose failure is
    // reported without hiding the graph.
    const sideErrors = [];
    const side = (req, what) => req.catch((e) => {
      if (e instanceof ApiError && e.status === 401) throw e;
      sideErrors.push(`${what} failed: ${e.message}`);
      return null;
    });
    const [t, top, series, cost] = await Promise.all([treeReq, side(topReq, 'top functions'), side(seriesReq, 'time series'), costReq]);
    if (seq !== loadSeq || route.view !== 'profile') return;
    tree = t;
    renderCost(cost);
    lastSeries = series ? { series, t0, t1, ranges } : null;
    if (series) chart.setData(series, t0, t1, ranges);
    else chart.clear();
    const empty = !t.nodes || t.nodes.parent.length <= 1 || !t.total;
    const baseEmpty = state.mode === 'diff' && !(t.baseTotalValue > 0);
    const wantZoom = state.zoom;
    graph.setData(t);
    if (wantZoom) {
      // The zoomed frame is kept in the URL as its path of names, so it survives reloads and new data.
      const z = graph.findPath(wantZoom.split(';'));
      if (z > 0) graph.zoom(z);
    }
    $('legend').hidden = state.mode !== 'diff';
    renderTop(priced ? topFromTree(t, state.order, 100) : top || { functions: [] }, t);
    applySearch();
    if (empty && (state.mode !== 'diff' || baseEmpty)) {
      setStatus('empty', `No data for service ${state.service} ${rangeWords()}.`);
      $('summary').textContent = '';
      return;
    }
    const notes = [...sideErrors];
    if (t.partial) notes.push('partial: some data was missing when this was read');
    if (t.truncated) notes.push(`${t.truncated.toLocaleString('en-US')} small frames folded into their parents (maxNodes)`);
    if (t.provenance && t.provenance !== 'measured') {
      notes.push(priced ? `frame widths in ${unitWords(t.unit)}, ${t.provenance} with the server's cost model` : t.provenance);
    }
    if (state.mode === 'diff' && empty) notes.push(`no comparison data ${rangeWords()}`);
    if (baseEmpty) notes.push('no baseline data in the baseline range');
    setStatus(t.partial || sideErrors.length ? 'partial' : 'ready', notes.join('; '));
    $('summary').textContent = `${state.mode === 'diff' ? 'Diff' : 'Flame'} graph: ${t.nodes.parent.length.toLocaleString('en-US')} nodes, `
      + `total ${formatValue(t.total, t.unit)}${state.mode === 'diff' ? ` (baseline ${formatValue(t.baseTotalValue || 0, t.unit)})` : ''}`
      + `${t.provenance && t.provenance !== 'measured' ? ` (${t.provenance})` : ''}, ${t.type}.`;
  } catch (e) {
    if (seq !== loadSeq || route.view !== 'profile') return;
    // No figures of an earlier selection beside an error.
    renderCost(null);
    showError(e);
  }
}

/**
 * In a diff, each function's self value as a share of its side's total, both sides, from the diff
 * tree (self is counted once per sample, so summing it per name is exact): name -> [cmp %, base %].
 */
function selfShares() {
  if (!graph.diff) return null;
  const sums = new Map();
  for (let i = 0; i < graph.n; i++) {
    if (!graph.self[i] && !graph.baseSelf[i]) continue;
    const name = graph.names[graph.name[i]];
    const v = sums.get(name) || [0, 0];
    v[0] += graph.self[i];
    v[1] += graph.baseSelf[i];
    sums.set(name, v);
  }
  for (const v of sums.values()) {
    v[0] = graph.grandTotal ? (100 * v[0]) / graph.grandTotal : 0;
    v[1] = graph.baseGrand ? (100 * v[1]) / graph.baseGrand : 0;
  }
  return sums;
}

/**
 * Top functions summed from a flame tree (the priced one): self adds up per name; total counts a
 * sample once even when the function is on its stack twice (recursion), as the server's top does.
 */
export function topFromTree(t, order, limit) {
  const { parent, name, total, self } = t.nodes;
  const n = parent.length;
  const k = t.names.length;
  const selfBy = new Float64Array(k);
  const totalBy = new Float64Array(k);
  const onStack = new Int32Array(k);
  const seen = new Uint8Array(k);
  const stack = [];
  for (let i = 1; i < n; i++) {
    // Pre-order: pop back to this node's parent (the root, index 0, is never on the stack).
    while (stack.length && stack[stack.length - 1] !== parent[i]) onStack[name[stack.pop()]]--;
    const f = name[i];
    seen[f] = 1;
    selfBy[f] += self[i];
    if (onStack[f] === 0) totalBy[f] += total[i];
    onStack[f]++;
    stack.push(i);
  }
  const functions = [];
  for (let f = 0; f < k; f++) if (seen[f]) functions.push({ name: t.names[f], self: selfBy[f], total: totalBy[f] });
  const key = order === 'total' ? 'total' : 'self';
  functions.sort((a, b) => b[key] - a[key] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { unit: t.unit, provenance: t.provenance, profileTotal: t.total, functions: functions.slice(0, limit) };
}

function renderTop(top, t = tree) {
  const body = $('top').tBodies[0];
  body.replaceChildren();
  const unit = top.unit || (t && t.unit);
  const provenance = top.provenance || (t && t.provenance) || 'measured';
  $('top-unit').textContent = `(${unitWords(unit)}, ${provenance})`;
  const shares = selfShares();
  $('delta-head').hidden = !shares;
  for (const th of document.querySelectorAll('#top .sort')) th.setAttribute('aria-pressed', th.dataset.order === state.order ? 'true' : 'false');
  for (const f of top.functions || []) {
    const tr = document.createElement('tr');
    tr.dataset.name = f.name;
    tr.dataset.self = String(f.self);
    tr.dataset.total = String(f.total);
    tr.tabIndex = 0;
    const name = document.createElement('td');
    name.className = 'fn';
    name.textContent = f.name;
    name.title = f.name;
    const self = document.createElement('td');
    self.textContent = `${formatValue(f.self, top.unit)} · ${formatPercent(f.self, top.profileTotal)}`;
    const total = document.createElement('td');
    total.textContent = `${formatValue(f.total, top.unit)} · ${formatPercent(f.total, top.profileTotal)}`;
    tr.append(name, self, total);
    if (shares) {
      // Change of the function's self share from baseline to comparison, in percentage points.
      const [c, b] = shares.get(f.name) || [0, 0];
      const delta = document.createElement('td');
      delta.textContent = `${c - b > 0 ? '+' : ''}${(c - b).toFixed(2)} pp`;
      delta.className = c - b > 0.005 ? 'grown' : c - b < -0.005 ? 'shrunk' : '';
      delta.title = `self: ${b.toFixed(2)}% of baseline → ${c.toFixed(2)}% of comparison`;
      tr.dataset.delta = String(c - b);
      tr.append(delta);
    }
    const pick = () => {
      state.search = `/^${f.name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$/`;
      $('search').value = state.search;
      applySearch();
      writeState(false);
      overlayFunction(f.name);
    };
    tr.addEventListener('click', pick);
    tr.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') pick();
    });
    body.append(tr);
  }
  if ((top.functions || []).length === 0) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = shares ? 4 : 3;
    td.textContent = 'no functions';
    tr.append(td);
    body.append(tr);
  }
}

function applySearch() {
  const text = state.search;
  const out = $('match');
  out.className = '';
  for (const tr of $('top').tBodies[0].rows) tr.classList.remove('selected');
  if (!text || !tree) {
    graph.setSearch(null);
    out.textContent = '';
    return;
  }
  let predicate;
  try {
    predicate = compileSearch(text);
  } catch (e) {
    graph.setSearch(null);
    out.className = 'error';
    out.textContent = `bad regex: ${e.message}`;
    return;
  }
  const matched = graph.setSearch(predicate);
  const total = tree.total || 0;
  out.textContent = `match: ${formatPercent(matched, total)} of total (${formatValue(matched, tree.unit)})`;
  out.dataset.matched = String(matched);
  out.dataset.percent = total ? String((100 * matched) / total) : '0';
  for (const tr of $('top').tBodies[0].rows) if (tr.dataset.name && predicate(tr.dataset.name)) tr.classList.add('selected');
}

function renderBreadcrumb(path) {
  const zoom = path.slice(1).map((p) => p.name).join(';');
  if (zoom !== state.zoom && tree) {
    state.zoom = zoom;
    writeState(false);
  }
  const nav = $('breadcrumb');
  nav.replaceChildren();
  path.forEach((p, k) => {
    if (k > 0) nav.append(document.createTextNode(' › '));
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'crumb';
    b.textContent = p.name;
    b.title = p.name;
    if (k === path.length - 1) b.setAttribute('aria-current', 'true');
    b.addEventListener('click', () => graph.zoom(p.index));
    nav.append(b);
  });
}

// ---- controls --------------------------------------------------------------------------------------

function fillSelect(select, values, selected, placeholder) {
  select.replaceChildren();
  if (placeholder !== undefined) {
    const o = document.createElement('option');
    o.value = '';
    o.textContent = placeholder;
    select.append(o);
  }
  for (const v of values) {
    const o = document.createElement('option');
    o.value = v;
    o.textContent = v;
    select.append(o);
  }
  select.value = selected;
}

function syncControls() {
  const m = /^now-(\d+[smhdw])$/.exec(state.from);
  const preset = m && state.until === 'now' && PRESETS.includes(m[1]) ? m[1] : 'custom';
  $('range').value = preset;
  $('custom-range').hidden = preset !== 'custom';
  $('from').value = state.from;
  $('until').value = state.until;
  $('mode-single').setAttribute('aria-pressed', String(state.mode === 'single'));
  $('mode-diff').setAttribute('aria-pressed', String(state.mode === 'diff'));
  $('diff-controls').hidden = state.mode !== 'diff';
  $('base-from').value = state.baseFrom;
  $('base-until').value = state.baseUntil;
  const nativeWords = unitWords(typeUnit(state.type));
  $('unit-native').textContent = nativeWords === 'samples' ? 'Samples' : nativeWords === 'CPU time' ? 'CPU time' : nativeWords;
  $('unit-native').title = `The profile's own values: ${nativeWords} (measured)`;
  for (const b of document.querySelectorAll('#width-group .unit')) {
    b.setAttribute('aria-pressed', String(b.dataset.unit === pricedUnit()));
    // A diff compares shares of the profile's own values; priced widths are for single CPU-time graphs.
    b.disabled = b.dataset.unit !== '' && (state.mode === 'diff' || !priceable(state.type));
  }
  $('width-group').title = state.mode === 'diff'
    ? 'A diff compares shares of the profile\'s own values: $, kWh and CO2e widths are for single graphs'
    : priceable(state.type)
      ? 'What the width of a frame measures: the profile\'s own values (measured), or its cost priced with the server\'s cost model (estimated)'
      : 'Only CPU-time profiles (process_cpu:cpu:nanoseconds) are priced: pick that profile type for $, kWh and CO2e';
  $('view-flame').setAttribute('aria-pressed', String(state.view === 'flame'));
  $('view-icicle').setAttribute('aria-pressed', String(state.view === 'icicle'));
  $('search').value = state.search;
  const chips = $('chips');
  chips.replaceChildren();
  state.labels.forEach(([k, v], idx) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'chip';
    b.textContent = `${k}="${v}" ×`;
    b.title = 'Remove this filter';
    b.addEventListener('click', () => {
      state.labels.splice(idx, 1);
      loadView();
    });
    chips.append(b);
  });
}

async function loadServices() {
  const ans = await getJson('/api/v1/query/labels', { name: 'service_name', from: 'now-7d', until: 'now' });
  const services = ans.values || [];
  if (!state.service || !services.includes(state.service)) {
    if (state.service && !services.includes(state.service)) services.unshift(state.service);
    state.service = state.service || services[0] || '';
  }
  fillSelect($('service'), services, state.service);
  fillSelect($('base-service'), services, state.baseService || state.service);
}

async function loadServiceMeta() {
  if (!state.service) return;
  const q = { query: selector(state.service, []), from: state.from, until: state.until };
  const [types, names] = await Promise.all([getJson('/api/v1/query/types', q), getJson('/api/v1/query/labels', q)]);
  let list = types.types || [];
  if (list.length === 0) {
    // Nothing in this range: offer the service's types from the last week so the view can say "no data" for one.
    list = (await getJson('/api/v1/query/types', { ...q, from: 'now-7d', until: 'now' })).types || [];
  }
  if (state.type && !list.includes(state.type)) list.unshift(state.type);
  if (!state.type) state.type = list.includes(DEFAULT_TYPE_HINT) ? DEFAULT_TYPE_HINT : list[0] || '';
  fillSelect($('type'), list, state.type);
  fillSelect($('label-name'), (names.names || []).filter((n) => n !== 'service_name' && !n.startsWith('__')), '', '+ filter');
}

function wire() {
  graph = new FlameGraph($('flame'), $('tooltip'), { onZoom: renderBreadcrumb });
  const ui = { setStatus, showError, navigate, tooltip: $('tooltip') };
  fleet = new FleetView(ui);
  task = new TaskView(ui);
  opportunities = new OpportunitiesView(ui);
  graph.setOrientation(state.view);
  chart = new SeriesChart($('series'), {
    onBrush: (a, b, base) => {
      if (base) {
        state.mode = 'diff';
        state.baseFrom = isoSeconds(a);
        state.baseUntil = isoSeconds(b);
      } else {
        state.from = isoSeconds(a);
        state.until = isoSeconds(b);
      }
      writeState(true);
      loadView();
    },
  });

  $('service').addEventListener('change', async (e) => {
    state.service = e.target.value;
    state.type = '';
    state.labels = [];
    try {
      await loadServiceMeta();
    } catch (err) {
      showError(err);
      return;
    }
    writeState(true);
    loadView();
  });
  $('type').addEventListener('change', (e) => {
    state.type = e.target.value;
    writeState(true);
    loadView();
  });
  $('range').addEventListener('change', (e) => {
    if (e.target.value === 'custom') {
      $('custom-range').hidden = false;
      $('from').focus();
      return;
    }
    state.from = `now-${e.target.value}`;
    state.until = 'now';
    writeState(true);
    loadView();
  });
  const applyRange = () => {
    state.from = $('from').value.trim() || 'now-1h';
    state.until = $('until').value.trim() || 'now';
    writeState(true);
    loadView();
  };
  $('apply-range').addEventListener('click', applyRange);
  for (const id of ['from', 'until']) $(id).addEventListener('keydown', (e) => e.key === 'Enter' && applyRange());

  $('label-name').addEventListener('change', async (e) => {
    const name = e.target.value;
    const sel = $('label-value');
    if (!name) {
      sel.hidden = true;
      return;
    }
    try {
      const ans = await getJson('/api/v1/query/labels', { name, query: selector(state.service, state.labels), from: state.from, until: state.until });
      fillSelect(sel, ans.values || [], '', `${name} =`);
      sel.hidden = false;
      sel.focus();
    } catch (err) {
      showError(err);
    }
  });
  $('label-value').addEventListener('change', (e) => {
    const name = $('label-name').value;
    if (!name || !e.target.value) return;
    state.labels = state.labels.filter(([k]) => k !== name).concat([[name, e.target.value]]);
    $('label-name').value = '';
    e.target.hidden = true;
    writeState(true);
    loadView();
  });

  const setMode = (mode) => {
    state.mode = mode;
    if (mode === 'diff' && !state.baseFrom) {
      // Default baseline: the same length of time just before the comparison range.
      const now = Date.now();
      const a = parseTime(state.from, now);
      const b = parseTime(state.until, now);
      state.baseFrom = isoSeconds(a - (b - a));
      state.baseUntil = isoSeconds(a);
    }
    writeState(true);
    loadView();
  };
  $('mode-single').addEventListener('click', () => setMode('single'));
  $('mode-diff').addEventListener('click', () => setMode('diff'));
  const applyBase = () => {
    state.baseService = $('base-service').value;
    state.baseFrom = $('base-from').value.trim();
    state.baseUntil = $('base-until').value.trim();
    writeState(true);
    loadView();
  };
  $('apply-base').addEventListener('click', applyBase);
  $('base-service').addEventListener('change', applyBase);
  for (const id of ['base-from', 'base-until']) $(id).addEventListener('keydown', (e) => e.key === 'Enter' && applyBase());

  const setView = (view) => {
    state.view = view;
    graph.setOrientation(view);
    syncControls();
    writeState(false);
  };
  $('view-flame').addEventListener('click', () => setView('flame'));
  $('view-icicle').addEventListener('click', () => setView('icicle'));
  $('reset-zoom').addEventListener('click', () => graph.resetZoom());

  let searchTimer = 0;
  $('search').addEventListener('input', (e) => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      state.search = e.target.value;
      applySearch();
      writeState(false);
    }, 120);
  });
  $('search').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      clearTimeout(searchTimer);
      state.search = e.target.value;
      applySearch();
      writeState(false);
    }
  });

  for (const b of document.querySelectorAll('.unit')) {
    b.addEventListener('click', () => {
      if (state.unit === b.dataset.unit) return;
      state.unit = b.dataset.unit;
      writeState(true);
      loadView();
    });
  }

  for (const b of document.querySelectorAll('#top .sort')) {
    b.addEventListener('click', () => {
      state.order = b.dataset.order;
      writeState(true);
      if (pricedUnit() && tree) {
        renderTop(topFromTree(tree, state.order, 100));
        applySearch();
        return;
      }
      getJson('/api/v1/query/top', { ...commonParams(), limit: 100, order: state.order })
        .then((top) => {
          renderTop(top);
          applySearch();
        })
        .catch(showError);
    });
  }

  for (const b of document.querySelectorAll('.export')) {
    b.addEventListener('click', async () => {
      const format = b.dataset.format;
      b.disabled = true;
      try {
        await download('/api/v1/query/export', { ...commonParams(), format }, `${state.service || 'profile'}.${exportSuffix(format)}`);
      } catch (e) {
        showError(e);
      } finally {
        b.disabled = false;
      }
    });
  }

  document.addEventListener('keydown', (e) => {
    const typing = e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement;
    if (route.view === 'task' && e.key === 'Escape') task.graph.resetZoom();
    if (route.view !== 'profile') return;
    if (e.key === '/' && !typing) {
      e.preventDefault();
      $('search').focus();
      $('search').select();
    } else if (e.key === 'Escape') {
      graph.resetZoom();
      if (typing) e.target.blur();
    }
  });

  // Back/forward and links between views. Chromium fires both events for a fragment change; the
  // URL decides whether there is anything new to show.
  const navigated = () => {
    if (window.location.href === routedUrl) return;
    if (!sessionStorage.getItem('orac.token')) return;
    showRoute();
  };
  window.addEventListener('popstate', navigated);
  window.addEventListener('hashchange', navigated);

  $('token-form').addEventListener('submit', () => {
    storeToken($('token-input').value.trim());
    $('token-input').value = '';
    start();
  });

  // Test and automation hook: what is drawn where, without reading pixels.
  window.__orac = {
    graph,
    nodeAt: (x, y) => graph.describe(graph.indexAt(x, y)),
    find: (name) => {
      let best = -1;
      for (let i = 0; i < graph.n; i++) {
        if (graph.names[graph.name[i]] === name && graph.rectOf(i) && (best < 0 || graph.total[i] > graph.total[best])) best = i;
      }
      return graph.describe(best);
    },
    redraw: () => graph.draw(),
    state: () => ({ ...state }),
    route: () => ({ ...route }),
    fleet,
    task,
    taskGraph: task.graph,
    opportunities,
    cost: () => lastCost,
  };
}

// ---- views and routing -------------------------------------------------------------------------

let fleet;
let task;
let opportunities;
let route = { view: 'none' };
let routedUrl = '';
let profileStarted = false;

/**
 * A link in the path style (`#/?query=SEL&search=S&from=T&until=T`, as opportunities link to the
 * filtered flame graph) turned into the profile view's own query string; null when the selector has
 * matchers the profile view cannot show (then the query is kept as the service box's text).
 */
function profileQueryFromLink(params) {
  const q = new URLSearchParams();
  const sel = parseSelector(params.get('query') || '');
  if (sel) {
    if (sel.service) q.set('service', sel.service);
    for (const [k, v] of sel.labels) q.append('label', `${k}=${v}`);
  }
  for (const k of ['type', 'from', 'until', 'search', 'view', 'unit', 'zoom', 'order', 'service']) {
    if (params.get(k)) q.set(k, params.get(k));
  }
  for (const l of params.getAll('label')) q.append('label', l);
  if (!q.get('from')) q.set('from', 'now-1h');
  if (!q.get('until')) q.set('until', 'now');
  return q;
}

/**
 * The view the fragment names: `#view=fleet[&query=S]`, `#view=task&id=ID[&host=H]`,
 * `#view=opportunities[&query=S&from=T&until=T&improve=N]` (also `#/opportunities?…`), else the
 * profile view (`#/?query=…&search=…` links are rewritten to its query string first).
 */
function readRoute() {
  const raw = window.location.hash.replace(/^#/, '');
  if (raw.startsWith('/')) {
    const qi = raw.indexOf('?');
    const path = (qi < 0 ? raw : raw.slice(0, qi)).replace(/^\/+|\/+$/g, '');
    const params = new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1));
    if (path === 'opportunities') {
      params.set('view', 'opportunities');
      history.replaceState(null, '', `${window.location.pathname}${window.location.search}#${params.toString()}`);
      return { view: 'opportunities', params };
    }
    if (path === 'fleet') {
      history.replaceState(null, '', `${window.location.pathname}${window.location.search}#view=fleet`);
      return { view: 'fleet', params: new URLSearchParams() };
    }
    const q = profileQueryFromLink(params);
    history.replaceState(null, '', `${window.location.pathname}?${q.toString()}`);
    return { view: 'profile', params: new URLSearchParams(), relink: true };
  }
  const h = new URLSearchParams(raw);
  const view = h.get('view');
  if (view === 'fleet') return { view: 'fleet', params: h };
  if (view === 'opportunities') return { view: 'opportunities', params: h };
  if (view === 'task' && h.get('id')) return { view: 'task', id: h.get('id'), params: h };
  return { view: 'profile', params: h };
}

/** Goes to another view (a fragment such as `#view=task&id=ID`), as a new history entry. */
function navigate(hash) {
  history.pushState(null, '', `${window.location.pathname}${window.location.search}${hash}`);
  showRoute();
}

function showRoute() {
  const next = readRoute();
  // readRoute may have rewritten a path-style link: what is routed is the URL as it is now.
  routedUrl = window.location.href;
  const previous = route.view;
  if (previous !== next.view) {
    if (previous === 'fleet') fleet.hide();
    if (previous === 'task') task.hide();
    if (previous === 'opportunities') opportunities.hide();
  }
  route = next;
  document.body.dataset.view = next.view;
  for (const v of ['profile', 'fleet', 'task', 'opportunities']) $(`${v}-view`).hidden = v !== next.view;
  // One status line, placed where each view reads it: under the profile view's second bar, else on top.
  if (next.view === 'profile') $('profile-view').insertBefore($('status'), $('series-box'));
  else $(`${next.view}-view`).prepend($('status'));
  $('profile-controls').hidden = next.view !== 'profile';
  $('nav-profile').setAttribute('aria-current', next.view === 'profile' ? 'page' : 'false');
  $('nav-fleet').setAttribute('aria-current', next.view === 'fleet' || next.view === 'task' ? 'page' : 'false');
  $('nav-opportunities').setAttribute('aria-current', next.view === 'opportunities' ? 'page' : 'false');
  if (next.view === 'opportunities') {
    document.title = 'Orac · opportunities';
    opportunities.show(next.params);
  } else if (next.view === 'fleet') {
    document.title = 'Orac · fleet';
    fleet.show(next.params);
  } else if (next.view === 'task') {
    document.title = `Orac · task ${next.id}`;
    task.show(next.id, next.params);
  } else {
    document.title = 'Orac';
    if (!profileStarted) {
      startProfile();
    } else {
      const previousService = state.service;
      state = readState();
      graph.setOrientation(state.view);
      if (next.relink || !state.type || state.service !== previousService) {
        // A link from another view may name another service and no type: the pickers load for it first.
        startProfile();
      } else {
        loadView();
      }
    }
  }
}

async function startProfile() {
  profileStarted = true;
  setStatus('loading', 'Loading services…');
  syncControls();
  try {
    await loadServices();
    await loadServiceMeta();
  } catch (e) {
    profileStarted = false;
    if (route.view === 'profile') showError(e);
    return;
  }
  if (route.view === 'profile') await loadView();
}

async function start() {
  if (!sessionStorage.getItem('orac.token')) {
    setStatus('auth', 'A token is needed to read profiles.');
    askToken('');
    return;
  }
  // A fresh start (first load, or a new token after a 401): the current view loads again from scratch.
  if (route.view === 'fleet') fleet.hide();
  if (route.view === 'task') task.hide();
  if (route.view === 'opportunities') opportunities.hide();
  route = { view: 'none' };
  showRoute();
}

takeToken();
wire();
start();
