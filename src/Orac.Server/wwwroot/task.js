// The task page (#view=task&id=ID[&host=H]): what was asked, how each host's part went (live, by
// long-polling GET /api/v1/tasks/{id}?wait=… while the task runs), then the answer: for profile
// tasks the merged (or one host's) flame graph, the hosts that differ, the top functions and
// exports; for check tasks each host's problems, most first; for pmc and trace each host's main
// figures. docs/fleet.md.

import { getJson, download, exportSuffix, ApiError } from './http.js';
import { FlameGraph } from './flame.js';
import { formatValue, formatPercent, formatBytes, formatDateTime, formatDuration } from './format.js';
import { describeTask } from './fleet.js';

const $ = (id) => document.getElementById(id);

/**
 * How long one long poll may be held, ms. The server answers a waiting GET as soon as the task is
 * no longer running; parts that finish before that show up when the wait ends, so a wait shorter
 * than the server's cap keeps each host's progress fresh on the page while the task runs.
 */
const LONG_POLL_MS = 5000;

function el(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  if (className) e.className = className;
  return e;
}

function cell(text, className, title) {
  const td = el('td', text, className);
  if (title) td.title = title;
  return td;
}

function emptyRow(body, text, span) {
  const tr = el('tr', undefined, 'empty-row');
  const td = cell(text);
  td.colSpan = span;
  tr.append(td);
  body.append(tr);
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/** A result's main figures, flattened one level: [[key, text]…], at most `max` entries. */
export function figures(obj, max = 40) {
  const out = [];
  const scalar = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en-US') : String(Math.round(v * 1000) / 1000)) : String(v));
  const brief = (v) => {
    const s = JSON.stringify(v);
    return s.length > 100 ? `${s.slice(0, 99)}…` : s;
  };
  const walk = (o, prefix, depth) => {
    for (const [k, v] of Object.entries(o)) {
      if (out.length >= max) return;
      const key = prefix ? `${prefix}.${k}` : k;
      if (v === null || v === undefined) continue;
      if (Array.isArray(v)) {
        if (v.length === 0) continue;
        const head = v.slice(0, 3).map((x) => (x !== null && typeof x === 'object' ? brief(x) : scalar(x))).join(', ');
        out.push([key, `${v.length} item${v.length === 1 ? '' : 's'}: ${head}${v.length > 3 ? ', …' : ''}`]);
      } else if (typeof v === 'object') {
        if (depth < 1) walk(v, key, depth + 1);
        else out.push([key, brief(v)]);
      } else {
        out.push([key, scalar(v)]);
      }
    }
  };
  if (obj && typeof obj === 'object') walk(obj, '', 0);
  return out;
}

export class TaskView {
  /** `ui`: { setStatus(kind, text), showError(e), navigate(hash), tooltip } from app.js. */
  constructor(ui) {
    this.ui = ui;
    this.active = false;
    this.gen = 0;
    this.task = null;
    this.abort = null;
    this.graph = new FlameGraph($('task-flame'), ui.tooltip, { onZoom: (path) => this.renderBreadcrumb(path) });
    this.wire();
  }

  show(id, params) {
    const host = params.get('host') || '';
    if (this.active && id === this.id && host === this.host) return;
    const same = id === this.id;
    this.active = true;
    this.id = id;
    this.host = host;
    if (!same) this.reset();
    this.load();
  }

  hide() {
    this.active = false;
    this.gen++;
    if (this.abort) this.abort.abort();
  }

  reset() {
    this.task = null;
    $('task-title').textContent = `Task ${this.id}`;
    $('task-state').textContent = '';
    $('task-head').replaceChildren();
    $('task-partial').hidden = true;
    $('parts').tBodies[0].replaceChildren();
    for (const s of ['task-profile', 'task-check', 'task-raw']) $(s).hidden = true;
    $('task-summary').textContent = '';
    this.graph.setData({ names: ['total'], unit: '', nodes: { parent: [-1], name: [0], total: [0], self: [0] } });
  }

  wire() {
    $('task-refresh').addEventListener('click', () => this.load());
    $('task-reset-zoom').addEventListener('click', () => this.graph.resetZoom());
    $('task-host').addEventListener('change', (e) => this.pickHost(e.target.value));
    for (const b of document.querySelectorAll('.task-export')) {
      b.addEventListener('click', async () => {
        const format = b.dataset.format;
        b.disabled = true;
        try {
          await download(`/api/v1/tasks/${encodeURIComponent(this.id)}/export`, { format, host: this.host },
            `task-${this.id}${this.host ? `-${this.host}` : ''}.${exportSuffix(format)}`);
        } catch (e) {
          this.ui.showError(e);
        } finally {
          b.disabled = false;
        }
      });
    }
  }

  /** Shows one host's profile (or the merge, with ''): kept in the fragment so the URL shares it. */
  pickHost(host) {
    this.host = host;
    const h = new URLSearchParams({ view: 'task', id: this.id });
    if (host) h.set('host', host);
    history.replaceState(null, '', `${window.location.pathname}${window.location.search}#${h.toString()}`);
    if (this.task) this.loadProfile(this.task, this.gen);
  }

  /** Reads the task, follows it while it runs, then loads its answer. */
  async load() {
    const gen = ++this.gen;
    if (this.abort) this.abort.abort();
    const path = `/api/v1/tasks/${encodeURIComponent(this.id)}`;
    this.ui.setStatus('loading', `Loading task ${this.id}…`);
    let task;
    try {
      task = await getJson(path);
    } catch (e) {
      if (gen === this.gen) this.ui.showError(e);
      return;
    }
    if (gen !== this.gen) return;
    this.render(task);
    let failures = 0;
    while (task.state === 'running') {
      const parts = task.parts || [];
      const finished = parts.filter((p) => p.state !== 'queued' && p.state !== 'running').length;
      const left = Math.max(0, task.deadlineMs - Date.now());
      this.ui.setStatus('running', `Running: ${finished} of ${parts.length} hosts answered; deadline in ${formatDuration(left)}.`);
      this.abort = new AbortController();
      try {
        task = await getJson(path, { wait: LONG_POLL_MS }, this.abort.signal);
        failures = 0;
      } catch (e) {
        if (gen !== this.gen || e.name === 'AbortError') return;
        if (e instanceof ApiError && e.status >= 400 && e.status < 500) {
          this.ui.showError(e);
          return;
        }
        // The server went away for a moment: say so and keep following, a little slower each time.
        this.ui.setStatus('error', `Lost the task's live updates (${e.message}); retrying…`);
        await sleep(Math.min(10000, 1000 * 2 ** failures++));
      }
      if (gen !== this.gen) return;
      this.render(task);
    }
    await this.loadAnswer(task, gen);
  }

  render(task) {
    this.task = task;
    $('task-title').textContent = `Task ${task.id}`;
    const state = $('task-state');
    state.textContent = task.state;
    state.className = `badge state-${task.state}`;
    document.body.dataset.taskState = task.state;

    const dl = $('task-head');
    dl.replaceChildren();
    const fact = (k, v) => dl.append(el('dt', k), el('dd', v));
    fact('Kind', describeTask(task));
    fact('Agents', task.selector || 'all agents of the org');
    fact('Created by', task.createdBy);
    fact('Created', formatDateTime(task.createdMs));
    const left = task.deadlineMs - Date.now();
    fact('Deadline', `${formatDateTime(task.deadlineMs)}${task.state === 'running' && left > 0 ? ` (in ${formatDuration(left)})` : ''}`);
    fact('Org', task.org);

    const banner = $('task-partial');
    if (task.partial) {
      banner.hidden = false;
      banner.textContent = `PARTIAL: this answer lacks ${(task.missing || []).length ? (task.missing || []).join(', ') : 'some hosts'}.`;
    } else {
      banner.hidden = true;
      banner.textContent = '';
    }

    const body = $('parts').tBodies[0];
    body.replaceChildren();
    for (const p of task.parts || []) {
      const tr = document.createElement('tr');
      tr.dataset.host = p.host;
      tr.dataset.state = p.state;
      const st = document.createElement('td');
      st.append(el('span', p.state.replace('_', ' '), `badge state-${p.state}`));
      if (p.reason) st.append(document.createTextNode(` ${p.reason}`));
      const finished = cell(p.finishedMs ? formatDateTime(p.finishedMs) : '');
      if (p.late) {
        const late = el('span', ' late', 'late');
        late.title = 'arrived after the deadline: kept and shown, but the task stays partial';
        finished.append(late);
        tr.dataset.late = 'true';
      }
      const result = [];
      if (p.resultBytes) result.push(formatBytes(p.resultBytes));
      if (task.kind === 'profile' && p.total !== undefined && p.total !== null) result.push(`total ${formatValue(p.total, 'nanoseconds')} CPU`);
      tr.append(
        cell(p.host, '', `agent ${p.agentId}`),
        st,
        cell(p.startedMs ? formatDateTime(p.startedMs) : ''),
        finished,
        cell(result.join(', ')),
      );
      body.append(tr);
    }
    if (!(task.parts || []).length) emptyRow(body, 'no hosts', 5);
  }

  /** Once the task is no longer running: the answer for its kind. */
  async loadAnswer(task, gen) {
    const parts = task.parts || [];
    const withResult = parts.filter((p) => p.state === 'done' || p.late);
    const words = `${task.state === 'partial' ? 'Partial' : 'Done'}: ${withResult.length} of ${parts.length} hosts answered.`;
    if (withResult.length === 0) {
      this.ui.setStatus(task.partial ? 'partial' : 'empty', `${words} No results to show.`);
      return;
    }
    if (task.kind === 'profile') await this.loadProfile(task, gen);
    else await this.loadResults(task, gen);
  }

  async loadProfile(task, gen) {
    $('task-profile').hidden = false;
    const base = `/api/v1/tasks/${encodeURIComponent(task.id)}`;
    const picker = $('task-host');
    const hosts = (task.parts || []).filter((p) => p.state === 'done' || p.late).map((p) => p.host);
    if (this.host && !hosts.includes(this.host)) hosts.push(this.host);
    picker.replaceChildren();
    const merged = el('option', `all ${hosts.length} hosts (merged)`);
    merged.value = '';
    picker.append(merged);
    for (const h of hosts) {
      const o = el('option', h);
      o.value = h;
      picker.append(o);
    }
    picker.value = this.host;
    this.ui.setStatus('loading', `Loading the ${this.host ? `profile of ${this.host}` : 'merged profile'}…`);
    const side = (req, what) => req.catch((e) => {
      if (e instanceof ApiError && e.status === 401) throw e;
      return new Error(`${what} failed: ${e.message}`);
    });
    try {
      const [tree, top, divergence] = await Promise.all([
        getJson(`${base}/flame`, { host: this.host }),
        side(getJson(`${base}/top`, { host: this.host, limit: 50 }), 'top functions'),
        side(getJson(`${base}/hosts`), 'hosts that differ'),
      ]);
      if (gen !== this.gen) return;
      this.graph.setData(tree);
      const notes = [];
      if (top instanceof Error) notes.push(top.message);
      else this.renderTop(top);
      if (divergence instanceof Error) notes.push(divergence.message);
      else this.renderHosts(divergence);
      const who = this.host || `${hosts.length} host${hosts.length === 1 ? '' : 's'} merged`;
      $('task-summary').textContent = `Flame graph of ${who}: ${tree.nodes.parent.length.toLocaleString('en-US')} nodes, `
        + `total ${formatValue(tree.total, tree.unit)} (${tree.provenance || 'measured'}).`;
      if (task.partial) notes.unshift(`partial: missing ${(task.missing || []).join(', ')}`);
      if (tree.truncated) notes.push(`${tree.truncated.toLocaleString('en-US')} small frames folded into their parents`);
      this.ui.setStatus(notes.length ? 'partial' : 'ready', notes.join('; '));
    } catch (e) {
      if (gen === this.gen) this.ui.showError(e);
    }
  }

  renderBreadcrumb(path) {
    const nav = $('task-breadcrumb');
    nav.replaceChildren();
    path.forEach((p, k) => {
      if (k > 0) nav.append(document.createTextNode(' › '));
      const b = el('button', p.name, 'crumb');
      b.type = 'button';
      b.title = p.name;
      if (k === path.length - 1) b.setAttribute('aria-current', 'true');
      b.addEventListener('click', () => this.graph.zoom(p.index));
      nav.append(b);
    });
  }

  renderTop(top) {
    const body = $('task-top').tBodies[0];
    body.replaceChildren();
    for (const f of top.functions || []) {
      const tr = document.createElement('tr');
      tr.dataset.name = f.name;
      tr.dataset.self = String(f.self);
      tr.append(
        cell(f.name, 'fn', f.name),
        cell(`${formatValue(f.self, top.unit)} · ${formatPercent(f.self, top.profileTotal)}`, 'num'),
        cell(`${formatValue(f.total, top.unit)} · ${formatPercent(f.total, top.profileTotal)}`, 'num'),
      );
      body.append(tr);
    }
    if (!(top.functions || []).length) emptyRow(body, 'no functions', 3);
  }

  renderHosts(doc) {
    const body = $('task-hosts').tBodies[0];
    body.replaceChildren();
    for (const h of doc.hosts || []) {
      const tr = el('tr', undefined, `clickable${h.host === this.host ? ' picked' : ''}`);
      tr.dataset.host = h.host;
      tr.dataset.distance = String(h.distancePercent);
      tr.title = `show ${h.host}'s flame graph`;
      const differs = document.createElement('td');
      const ul = document.createElement('ul');
      for (const f of h.differs || []) {
        const li = el('li');
        li.append(el('span', f.name, 'fn'), document.createTextNode(`: ${f.hostPercent.toFixed(1)}% vs ${f.restPercent.toFixed(1)}%`));
        ul.append(li);
      }
      differs.append(ul);
      tr.append(
        cell(h.host),
        cell(formatValue(h.total, doc.unit), 'num'),
        cell(`${h.distancePercent.toFixed(1)} pp`, 'num'),
        differs,
      );
      tr.addEventListener('click', () => this.pickHost(h.host === this.host ? '' : h.host));
      body.append(tr);
    }
    if (!(doc.hosts || []).length) emptyRow(body, 'no hosts with results', 4);
  }

  async loadResults(task, gen) {
    this.ui.setStatus('loading', 'Loading the results…');
    let doc;
    try {
      doc = await getJson(`/api/v1/tasks/${encodeURIComponent(task.id)}/results`);
    } catch (e) {
      if (gen === this.gen) this.ui.showError(e);
      return;
    }
    if (gen !== this.gen) return;
    if (task.kind === 'check') this.renderCheck(doc.results || []);
    else this.renderRaw(doc.results || []);
    const notes = task.partial ? [`partial: missing ${(task.missing || []).join(', ')}`] : [];
    this.ui.setStatus(notes.length ? 'partial' : 'ready', notes.join('; '));
  }

  renderCheck(results) {
    $('task-check').hidden = false;
    const body = $('check-results').tBodies[0];
    body.replaceChildren();
    const problemsOf = (r) => (r.result && Array.isArray(r.result.problems) ? r.result.problems : []);
    // Outliers first: the most problems on top; hosts without a result after those that have one.
    const rows = [...results].sort((a, b) => problemsOf(b).length - problemsOf(a).length
      || Number(Boolean(b.result)) - Number(Boolean(a.result)) || a.host.localeCompare(b.host));
    for (const r of rows) {
      const problems = problemsOf(r);
      const tr = document.createElement('tr');
      tr.dataset.host = r.host;
      tr.dataset.problems = String(problems.length);
      const what = document.createElement('td');
      if (!r.result) {
        what.textContent = `no result: ${r.state.replace('_', ' ')}${r.reason ? ` (${r.reason})` : ''}`;
        what.className = 'warn';
      } else if (problems.length === 0) {
        what.textContent = 'no problems flagged';
      } else {
        const ul = document.createElement('ul');
        for (const p of problems) {
          const li = el('li');
          li.append(el('strong', `${p.resource} ${p.kind}`), document.createTextNode(`: ${p.message}`));
          li.title = `rule ${p.rule}`;
          ul.append(li);
        }
        what.append(ul);
      }
      if (r.late) what.append(el('span', ' (late)', 'late'));
      if (r.result && r.result.partial) what.append(el('div', `partial check: ${(r.result.partialReasons || []).join('; ')}`, 'warn'));
      const flagged = r.result && Array.isArray(r.result.use) ? r.result.use.filter((u) => u.flag === 'PROBLEM') : [];
      const use = cell(flagged.map((u) => `${u.resource}: util ${u.utilization}, sat ${u.saturation}, err ${u.errors}`).join('; ')
        || (r.result ? 'all ok' : ''));
      tr.append(cell(r.host), cell(r.result ? String(problems.length) : '–', 'num'), what, use);
      body.append(tr);
    }
    if (!rows.length) emptyRow(body, 'no hosts', 4);
  }

  renderRaw(results) {
    $('task-raw').hidden = false;
    const body = $('raw-results').tBodies[0];
    body.replaceChildren();
    for (const r of results) {
      const tr = document.createElement('tr');
      tr.dataset.host = r.host;
      const st = document.createElement('td');
      st.append(el('span', r.state.replace('_', ' '), `badge state-${r.state}`));
      if (r.reason) st.append(document.createTextNode(` ${r.reason}`));
      if (r.late) st.append(el('span', ' late', 'late'));
      const figs = document.createElement('td');
      if (r.result) {
        const kv = el('div', undefined, 'kv');
        for (const [k, v] of figures(r.result)) {
          const item = el('span');
          item.append(el('span', `${k} `, 'k'), el('code', v));
          kv.append(item);
        }
        figs.append(kv);
      } else {
        figs.textContent = 'no result';
      }
      tr.append(cell(r.host), st, figs);
      body.append(tr);
    }
    if (!results.length) emptyRow(body, 'no hosts', 3);
  }
}
