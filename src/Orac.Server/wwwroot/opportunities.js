// The opportunities page (#view=opportunities[&query=S&from=T&until=T&improve=N]): the fleet's
// ranked backlog from GET /api/v1/opportunities (docs/cost.md) — what each function, library,
// recognised pattern or idle GPU costs per year, what an improvement of N % would save, who owns it,
// its trend, one line of advice and a link to its flame graph. Per-year figures are projections of
// estimated cost, and the page says so.

import { getJson } from './http.js';
import { formatUsd, formatKwh, formatCo2e, formatDateTime } from './format.js';

const $ = (id) => document.getElementById(id);
const DEFAULT_FROM = 'now-7d';
const DEFAULT_UNTIL = 'now';
const DEFAULT_IMPROVE = 10;
const TOP = 50;
const COLUMNS = 10;

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

/** `$1,234.56 · 12.3 kWh · 4.56 kg CO2e` */
export function savingsText(s) {
  return `${formatUsd(s.usd || 0)} · ${formatKwh(s.kwh || 0)} · ${formatCo2e(s.kgCo2e || 0)}`;
}

/** `+12.3 %`, `−4.0 %`, or `new` when the previous period had no data. */
export function trendText(percent) {
  if (percent === null || percent === undefined) return 'new';
  const p = Math.abs(percent) >= 10 ? percent.toFixed(0) : percent.toFixed(1);
  return `${percent > 0 ? '+' : percent < 0 ? '−' : '±'}${p.replace('-', '')} %`;
}

/**
 * The flame graph link of an opportunity: the server's own (Opportunity.Link, relative to the server),
 * else one made from its first owner and its name.
 */
export function opportunityHref(o) {
  if (o.link) return o.link;
  const q = new URLSearchParams();
  const owner = (o.owners || [])[0];
  if (owner) q.set('service', owner.service);
  q.set('search', `/^${o.name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$/`);
  return `/?${q.toString()}`;
}

export class OpportunitiesView {
  /** `ui`: { setStatus(kind, text), showError(e), navigate(hash) } from app.js. */
  constructor(ui) {
    this.ui = ui;
    this.active = false;
    this.seq = 0;
    this.doc = null;
    $('opps-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.apply();
    });
  }

  show(params) {
    this.active = true;
    this.params = {
      query: params.get('query') || '',
      from: params.get('from') || DEFAULT_FROM,
      until: params.get('until') || DEFAULT_UNTIL,
      improve: Number(params.get('improve')) || DEFAULT_IMPROVE,
    };
    $('opps-query').value = this.params.query;
    $('opps-from').value = this.params.from;
    $('opps-until').value = this.params.until;
    $('opps-improve').value = String(this.params.improve);
    this.load();
  }

  hide() {
    this.active = false;
    this.seq++;
  }

  /** Reads the form, keeps it in the fragment (a new history entry) and ranks again. */
  apply() {
    const improve = Number($('opps-improve').value || DEFAULT_IMPROVE);
    if (!Number.isFinite(improve) || improve <= 0 || improve > 100) {
      this.ui.setStatus('error', 'Improvement must be a percentage above 0 and at most 100.');
      return;
    }
    const h = new URLSearchParams({ view: 'opportunities' });
    const query = $('opps-query').value.trim();
    const from = $('opps-from').value.trim() || DEFAULT_FROM;
    const until = $('opps-until').value.trim() || DEFAULT_UNTIL;
    if (query) h.set('query', query);
    if (from !== DEFAULT_FROM) h.set('from', from);
    if (until !== DEFAULT_UNTIL) h.set('until', until);
    if (improve !== DEFAULT_IMPROVE) h.set('improve', String(improve));
    this.ui.navigate(`#${h.toString()}`);
  }

  async load() {
    const seq = ++this.seq;
    const p = this.params;
    this.ui.setStatus('loading', 'Ranking opportunities…');
    try {
      const doc = await getJson('/api/v1/opportunities', {
        query: p.query, from: p.from, until: p.until, improve: p.improve, top: TOP,
      });
      if (!this.active || seq !== this.seq) return;
      this.doc = doc;
      this.render(doc);
      const items = doc.items || [];
      const what = p.query || 'the whole org';
      if (items.length === 0) {
        this.ui.setStatus('empty', `No opportunities for ${what} between ${p.from} and ${p.until}: no priced profiles in that period.`);
        return;
      }
      const words = `${items.length} opportunit${items.length === 1 ? 'y' : 'ies'} for ${what}, ranked by estimated cost per year (projection).`;
      this.ui.setStatus(doc.partial ? 'partial' : 'ready', doc.partial ? `partial: ${words}` : words);
    } catch (e) {
      if (!this.active || seq !== this.seq) return;
      this.render(null);
      this.ui.showError(e);
    }
  }

  render(doc) {
    const body = $('opps').tBodies[0];
    body.replaceChildren();
    $('opps-notes').replaceChildren();
    $('opps-partial').hidden = true;
    $('opps-totals').replaceChildren();
    if (!doc) return;
    const improve = doc.improvementPercent ?? this.params.improve;
    $('opps-save-head').textContent = `Save at ${improve} %`;
    $('opps-save-head').title = `What a ${improve} % improvement would save per year (projection); elimination in the cell's hint`;

    const totals = $('opps-totals');
    totals.append(
      el('strong', 'Selection per year: '),
      document.createTextNode(savingsText(doc.totalPerYear || {})),
      el('span', 'projection', 'basis basis-projection'),
      el('span', ` selection ${doc.selection || 'all'} · ${formatDateTime(doc.from)} → ${formatDateTime(doc.until)}, scaled to a year`, 'hint'),
    );
    totals.dataset.usd = String((doc.totalPerYear || {}).usd || 0);

    if (doc.partial) {
      $('opps-partial').hidden = false;
      $('opps-partial').textContent = 'PARTIAL: some data was missing for this period; costs and ranks may be low (see the notes below).';
    }
    for (const n of doc.notes || []) $('opps-notes').append(el('li', n));

    for (const o of doc.items || []) {
      const tr = document.createElement('tr');
      tr.dataset.rank = String(o.rank);
      tr.dataset.name = o.name;
      tr.dataset.kind = o.kind;
      tr.dataset.usd = String(o.annual.usd);
      const name = cell(undefined, 'fn');
      const a = el('a', o.name);
      a.href = opportunityHref(o);
      a.className = 'flame-link';
      a.title = `Flame graph filtered to ${o.name}`;
      name.append(a);
      if (o.pattern && o.kind !== 'pattern') name.append(el('span', `pattern: ${o.pattern}`, 'sub'));
      const save = cell(formatUsd(o.ifImproved.usd), 'num', `eliminating it: ${savingsText(o.ifEliminated)} per year (projection)`);
      save.append(el('span', `${formatKwh(o.ifImproved.kwh)} · ${formatCo2e(o.ifImproved.kgCo2e)}`, 'sub'));
      const owners = cell();
      const list = o.owners || [];
      owners.textContent = list.slice(0, 3).map((w) => `${w.service} (${w.org}) ${w.percent.toFixed(0)} %`).join(', ')
        + (list.length > 3 ? `, +${list.length - 3} more` : '');
      const trend = cell(trendText(o.trendPercent), 'num', o.trendPercent === null || o.trendPercent === undefined
        ? 'no data in the previous period of the same length'
        : 'change of cost against the previous period of the same length');
      if (o.trendPercent > 0.5) trend.classList.add('trend-up');
      else if (o.trendPercent < -0.5) trend.classList.add('trend-down');
      tr.append(
        cell(String(o.rank), 'num'),
        cell(o.kind),
        name,
        cell(formatUsd(o.annual.usd), 'num', 'estimated cost per year (projection)'),
        cell(formatKwh(o.annual.kwh), 'num', 'facility energy per year (projection)'),
        cell(formatCo2e(o.annual.kgCo2e), 'num', 'operational emissions per year (projection)'),
        save,
        owners,
        trend,
        cell(o.advice, 'advice'),
      );
      body.append(tr);
    }
    if ((doc.items || []).length === 0) {
      const tr = el('tr', undefined, 'empty-row');
      const td = cell('no opportunities in this period');
      td.colSpan = COLUMNS;
      tr.append(td);
      body.append(tr);
    }
  }
}
