// The fleet page (#view=fleet): the org's agents (GET /api/v1/agents, refreshed every 5 s), the
// research form (POST /api/v1/tasks, then the task page), the control form for admin tokens
// (POST /api/v1/agents/settings) and the recent tasks (GET /api/v1/tasks). docs/fleet.md.

import { getJson, postJson, ApiError } from './http.js';
import { formatAge, formatBytes, formatDateTime, formatDuration } from './format.js';

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 5000;

/** Collection time each kind gets when the form leaves the duration empty (the server's defaults, docs/fleet.md). */
const DEFAULT_SECONDS = { profile: 30, check: 60, pmc: 10, trace: 10 };

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

/** A link to a task's page. */
export function taskHref(id) {
  return `#view=task&id=${encodeURIComponent(id)}`;
}

/** One line describing what a task asked for: `profile 30 s at 99 Hz`, `trace runqlat 10 s`. */
export function describeTask(t) {
  const parts = [t.kind];
  if (t.kind === 'trace' && t.tool) parts.push(t.tool);
  parts.push(formatDuration(t.durationMs));
  if (t.kind === 'profile' && t.hz) parts.push(`at ${t.hz} Hz`);
  if (t.kind === 'pmc' && t.events && t.events.length) parts.push(`events ${t.events.join(',')}`);
  return parts.join(' ');
}

/** Message for an error in a form: the server's own words, and what a 403 means here. */
function formError(e, what) {
  if (!(e instanceof ApiError)) return `${what} failed: ${e.message}`;
  if (e.status === 403) return `Not allowed (403): ${e.message}. ${what} needs an admin token; this token cannot change agents.`;
  return `${what} failed (${e.status || 'network'}): ${e.message}`;
}

export class FleetView {
  /** `ui`: { setStatus(kind, text), showError(e), navigate(hash) } from app.js. */
  constructor(ui) {
    this.ui = ui;
    this.active = false;
    this.timer = 0;
    this.seq = 0;
    this.wire();
  }

  show(params) {
    this.active = true;
    const q = params.get('query') || '';
    $('fleet-selector').value = q;
    this.query = q;
    this.refresh(true);
  }

  hide() {
    this.active = false;
    clearTimeout(this.timer);
  }

  wire() {
    const applySelector = () => {
      this.query = $('fleet-selector').value.trim();
      const h = new URLSearchParams({ view: 'fleet' });
      if (this.query) h.set('query', this.query);
      // replaceState fires no navigation event: the filter is a refinement of this view, not a new one.
      history.replaceState(null, '', `${window.location.pathname}${window.location.search}#${h.toString()}`);
      this.refresh(true);
    };
    $('fleet-selector').addEventListener('keydown', (e) => e.key === 'Enter' && applySelector());
    $('fleet-selector').addEventListener('change', applySelector);

    const syncKind = () => {
      const kind = $('research-kind').value;
      for (const l of document.querySelectorAll('#research-form [data-kinds]')) l.hidden = !l.dataset.kinds.split(' ').includes(kind);
      $('research-duration').placeholder = String(DEFAULT_SECONDS[kind]);
    };
    $('research-kind').addEventListener('change', syncKind);
    syncKind();

    $('research-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.runTask();
    });
    $('control-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.applyControl();
    });
  }

  /** Reads a whole number of seconds from an input as ms; undefined when empty (server default). */
  static seconds(id, what, min, max) {
    const text = $(id).value.trim();
    if (!text) return undefined;
    const n = Number(text);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${what} must be a number from ${min} to ${max}`);
    return Math.round(n * 1000);
  }

  async runTask() {
    const out = $('research-error');
    out.textContent = '';
    const kind = $('research-kind').value;
    let body;
    try {
      body = { kind, selector: $('research-selector').value.trim() };
      const duration = FleetView.seconds('research-duration', 'Duration (s)', 1, 600);
      if (duration !== undefined) body.durationMs = duration;
      const deadline = FleetView.seconds('research-deadline', 'Deadline (s)', 1, 1200);
      if (deadline !== undefined) body.deadlineMs = deadline;
      if (kind === 'profile' && $('research-hz').value.trim()) {
        const hz = Number($('research-hz').value);
        if (!Number.isInteger(hz) || hz < 1 || hz > 1000) throw new Error('Rate must be a whole number of Hz from 1 to 1000');
        body.hz = hz;
      }
      if (kind === 'trace') {
        body.tool = $('research-tool').value.trim();
        if (!body.tool) throw new Error('A trace task needs a tool (e.g. runqlat)');
      }
      if (kind === 'pmc') body.events = $('research-events').value.split(',').map((s) => s.trim()).filter(Boolean);
    } catch (e) {
      out.textContent = e.message;
      return;
    }
    $('research-run').disabled = true;
    try {
      const task = await postJson('/api/v1/tasks', body);
      this.ui.navigate(taskHref(task.id));
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) this.ui.showError(e);
      out.textContent = formError(e, 'Creating the task');
    } finally {
      $('research-run').disabled = false;
    }
  }

  async applyControl() {
    const out = $('control-error');
    const done = $('control-result');
    out.textContent = '';
    done.textContent = '';
    const body = { selector: $('control-selector').value.trim() };
    const hzText = $('control-hz').value.trim();
    if (hzText) {
      const hz = Number(hzText);
      if (!Number.isInteger(hz) || hz < 1 || hz > 1000) {
        out.textContent = 'Rate must be a whole number of Hz from 1 to 1000';
        return;
      }
      body.hz = hz;
    }
    const paused = $('control-paused').value;
    if (paused) body.paused = paused === 'pause';
    const label = $('control-label').value.trim();
    if (label) {
      const i = label.indexOf('=');
      if (i <= 0) {
        out.textContent = `Label must be key=value (key= removes it), not '${label}'`;
        return;
      }
      body.labels = { [label.slice(0, i).trim()]: label.slice(i + 1).trim() };
    }
    if (body.hz === undefined && body.paused === undefined && !body.labels) {
      out.textContent = 'Nothing to change: give a rate, pause/resume or a label.';
      return;
    }
    $('control-apply').disabled = true;
    try {
      const ans = await postJson('/api/v1/agents/settings', body);
      const hosts = (ans.agents || []).map((a) => a.info.hostname);
      done.textContent = `Changed ${hosts.length} agent${hosts.length === 1 ? '' : 's'}: ${hosts.join(', ')}. They apply it on their next heartbeat (the table says applying… until then).`;
      this.refresh(false);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) this.ui.showError(e);
      out.textContent = formError(e, 'Changing agent settings');
      out.dataset.status = e instanceof ApiError ? String(e.status) : '';
    } finally {
      $('control-apply').disabled = false;
    }
  }

  async refresh(announce) {
    clearTimeout(this.timer);
    if (!announce && document.hidden) {
      // Nobody is looking: check again later instead of polling a background tab.
      this.timer = setTimeout(() => this.refresh(false), REFRESH_MS);
      return;
    }
    const seq = ++this.seq;
    if (announce) this.ui.setStatus('loading', 'Loading agents…');
    const tasksReq = getJson('/api/v1/tasks', { limit: 50 }).catch((e) => e);
    try {
      const fleet = await getJson('/api/v1/agents', { query: this.query });
      if (!this.active || seq !== this.seq) return;
      this.renderAgents(fleet.agents || []);
      const tasks = await tasksReq;
      if (!this.active || seq !== this.seq) return;
      const notes = [];
      if (tasks instanceof Error) notes.push(`task list failed: ${tasks.message}`);
      else this.renderTasks(tasks.tasks || []);
      const agents = fleet.agents || [];
      const online = agents.filter((a) => a.status === 'online').length;
      const words = agents.length === 0
        ? (this.query ? `No agents match ${this.query}.` : 'No agents have registered yet: start `orac agent --server URL --token TOKEN` on a host.')
        : `${agents.length} agent${agents.length === 1 ? '' : 's'}, ${online} online${this.query ? ` matching ${this.query}` : ''}.`;
      this.ui.setStatus(notes.length ? 'partial' : agents.length ? 'ready' : 'empty', [words, ...notes].join(' '));
      $('fleet-updated').textContent = `updated ${formatDateTime(Date.now())}; refreshes every ${REFRESH_MS / 1000} s`;
    } catch (e) {
      if (!this.active || seq !== this.seq) return;
      this.ui.showError(e);
      if (e instanceof ApiError && e.status === 401) return;
    }
    if (this.active && seq === this.seq) this.timer = setTimeout(() => this.refresh(false), REFRESH_MS);
  }

  renderAgents(agents) {
    const body = $('agents').tBodies[0];
    body.replaceChildren();
    const now = Date.now();
    for (const a of agents) {
      const info = a.info || {};
      const tr = document.createElement('tr');
      tr.dataset.host = info.hostname;
      tr.dataset.status = a.status;
      const host = cell(info.hostname, 'host');
      host.title = [
        `agent id ${info.id}`,
        info.kernel && `kernel ${info.kernel}`,
        info.cpuModel && `${info.cpus || '?'} × ${info.cpuModel}`,
        info.memoryBytes && `memory ${formatBytes(info.memoryBytes)}`,
        info.gpus && info.gpus.length && `GPUs ${info.gpus.join(', ')}`,
        info.version && `orac ${info.version}`,
        `registered ${formatDateTime(a.registeredMs)}`,
      ].filter(Boolean).join('\n');
      const status = cell(a.status, a.status === 'online' ? 'status-online' : 'status-offline');
      status.dataset.status = a.status;
      const seen = cell(formatAge(a.lastSeenMs, now), '', formatDateTime(a.lastSeenMs));
      const labels = document.createElement('td');
      for (const [k, v] of Object.entries(a.labels || {}).sort(([x], [y]) => x.localeCompare(y))) {
        if (k === 'host') continue;
        labels.append(el('span', `${k}=${v}`, 'label'));
      }
      const caps = cell((info.capabilities || []).join(', '));
      const s = a.settings || {};
      const profiling = cell(s.paused ? 'paused' : `${s.hz} Hz`);
      if ((a.appliedVersion || 0) < (s.version || 0)) {
        const p = el('span', ' · applying…', 'pending');
        p.title = `settings version ${s.version} sent; the agent last reported running version ${a.appliedVersion || 0}`;
        profiling.append(p);
        tr.dataset.applying = 'true';
      }
      const o = a.overhead || {};
      const cpu = cell(`${(o.cpuPercent || 0).toFixed(1)} %`, 'num', 'percent of one core, measured by the agent');
      const rss = cell(`${((o.rssBytes || 0) / 1048576).toFixed(1)} MB`, 'num', 'resident set size, measured by the agent');
      const sp = a.spool || {};
      const spool = cell(`${sp.files || 0} file${sp.files === 1 ? '' : 's'}, ${formatBytes(sp.bytes || 0)}`, 'num');
      if (sp.droppedUploads) {
        spool.append(el('span', ` · ${sp.droppedUploads} dropped (${sp.droppedSamples} samples)`, 'warn'));
      }
      tr.append(host, status, seen, labels, caps, profiling, cpu, rss, spool);
      body.append(tr);
    }
    if (agents.length === 0) {
      const tr = el('tr', undefined, 'empty-row');
      const td = cell('no agents');
      td.colSpan = 9;
      tr.append(td);
      body.append(tr);
    }
  }

  renderTasks(tasks) {
    const body = $('tasks').tBodies[0];
    body.replaceChildren();
    const now = Date.now();
    for (const t of tasks) {
      const tr = document.createElement('tr');
      tr.dataset.id = t.id;
      const idCell = document.createElement('td');
      const a = el('a', t.id);
      a.href = taskHref(t.id);
      idCell.append(a);
      const state = document.createElement('td');
      state.append(el('span', t.state, `badge state-${t.state}`));
      const parts = t.parts || [];
      const done = parts.filter((p) => p.state === 'done').length;
      tr.append(
        idCell,
        cell(describeTask(t)),
        cell(t.selector || 'all agents'),
        cell(formatAge(t.createdMs, now), '', formatDateTime(t.createdMs)),
        cell(t.createdBy),
        state,
        cell(`${done} of ${parts.length}`, 'num'),
      );
      body.append(tr);
    }
    if (tasks.length === 0) {
      const tr = el('tr', undefined, 'empty-row');
      const td = cell('no tasks yet: use the research form above');
      td.colSpan = 7;
      tr.append(td);
      body.append(tr);
    }
  }
}
