// Orac's flame graph: one <canvas>, no dependencies. The columnar tree from /api/v1/query
// (docs/api.md: pre-order nodes with parent/name/total/self) is laid out once into typed arrays —
// x offset, depth and subtree size per node — so zooming and redrawing never allocate per node.
// A draw walks the zoomed subtree in pre-order, skips any subtree narrower than MIN_WIDTH px
// (its children are narrower still), groups rectangles by colour and fills each colour once.

import { formatValue, formatPercent, formatSigned, unitWords } from './format.js';

const ROW = 18;            // CSS px per stack level
const MIN_WIDTH = 0.5;     // CSS px: narrower frames are not drawn (nor is anything above them)
const LABEL_MIN = 28;      // CSS px: frames narrower than this get no text
const THIN = 2;            // CSS px: touching frames narrower than this merge into one rectangle
const WARM = 48;           // warm palette size (name-hash colours)
const DIFF_STEPS = 8;      // diff colour steps on each side of "no change"

/** Warm palette (reds, oranges, yellows) like the classic flame graph, fixed per name hash. */
const warmPalette = Array.from({ length: WARM }, (_, i) => {
  const v = i / (WARM - 1);
  return `rgb(${Math.round(205 + 50 * v)},${Math.round(70 + 150 * ((i * 7) % WARM) / WARM)},${Math.round(30 + 40 * v)})`;
});

/** Diff palette: index DIFF_STEPS is "no change", above it redder (more), below it bluer (less). */
const diffPalette = Array.from({ length: 2 * DIFF_STEPS + 1 }, (_, i) => {
  const k = (i - DIFF_STEPS) / DIFF_STEPS;
  const a = Math.abs(k);
  if (k > 0) return `rgb(255,${Math.round(225 - 185 * a)},${Math.round(225 - 185 * a)})`;
  if (k < 0) return `rgb(${Math.round(225 - 185 * a)},${Math.round(225 - 145 * a)},255)`;
  return 'rgb(225,225,225)';
});

const MATCH = 'rgb(230,0,230)';
const UNMATCHED = 'rgb(222,222,222)';
const ANCESTOR = 'rgb(238,234,226)';
const MERGED = 'rgb(212,186,150)'; // several touching sub-2px frames of different names, drawn as one

function hashName(s) {
  // FNV-1a over UTF-16 units, then only the part before any '(' so overloads share a colour.
  let h = 0x811c9dc5;
  const end = s.indexOf('(') > 0 ? s.indexOf('(') : s.length;
  for (let i = 0; i < end; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Parses the search box: `/re/flags` is a regular expression, anything else a case-sensitive
 * substring. Returns a predicate, or throws with a readable message for a bad expression.
 */
export function compileSearch(text) {
  const m = /^\/(.*)\/([a-z]*)$/.exec(text);
  if (m) {
    const re = new RegExp(m[1], m[2].replace('g', ''));
    return (s) => re.test(s);
  }
  return (s) => s.includes(text);
}

export class FlameGraph {
  constructor(canvas, tooltip, { onZoom } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.tooltip = tooltip;
    this.onZoom = onZoom || (() => {});
    this.orientation = 'flame';
    this.tree = null;
    this.n = 0;
    this.zoomIndex = 0;
    this.matchedNames = null;
    this.lastDrawMs = 0;
    this.pending = false;
    this.hoverIndex = -1;
    canvas.addEventListener('mousemove', (e) => this.hover(e.offsetX, e.offsetY, e.clientX, e.clientY));
    canvas.addEventListener('mouseleave', () => {
      this.hideTooltip();
      this.setHover(-1);
    });
    canvas.addEventListener('click', (e) => {
      const i = this.indexAt(e.offsetX, e.offsetY);
      if (i >= 0) this.zoom(i);
    });
    new ResizeObserver(() => this.requestDraw()).observe(canvas.parentElement);
  }

  /** Takes a flame tree (or diff tree) answer and lays it out. */
  setData(tree) {
    const { parent, name, total, self } = tree.nodes;
    const n = parent.length;
    this.tree = tree;
    this.n = n;
    this.names = tree.names;
    this.unit = tree.unit;
    // Locals in the loops: one pass each over typed arrays, no property loads per node.
    const par = new Int32Array(parent);
    const tot = new Float64Array(total);
    const x = new Float64Array(n);
    const depth = new Int32Array(n);
    const size = new Int32Array(n).fill(1);
    const cursor = new Float64Array(n);
    let maxDepth = 0;
    for (let i = 1; i < n; i++) {
      const p = par[i];
      // Pre-order: the parent was placed first, and its cursor started at its own x.
      const xi = cursor[p];
      x[i] = xi;
      cursor[p] = xi + tot[i];
      cursor[i] = xi;
      const d = depth[p] + 1;
      depth[i] = d;
      if (d > maxDepth) maxDepth = d;
    }
    for (let i = n - 1; i > 0; i--) size[par[i]] += size[i];
    this.parent = par;
    this.name = new Int32Array(name);
    this.total = tot;
    this.self = new Float64Array(self);
    this.x = x;
    this.depth = depth;
    this.size = size;
    this.maxDepth = maxDepth;
    // docs/api.md: the diff adds baseTotal/baseSelf columns (beside the other columns in `nodes`; top level accepted too).
    const baseTotal = tree.nodes.baseTotal ?? tree.baseTotal;
    const baseSelf = tree.nodes.baseSelf ?? tree.baseSelf;
    this.diff = Array.isArray(baseTotal);
    this.grandTotal = n > 0 ? this.total[0] : 0;
    if (this.diff) {
      this.baseTotal = new Float64Array(baseTotal);
      this.baseSelf = baseSelf ? new Float64Array(baseSelf) : new Float64Array(n);
      this.baseGrand = tree.baseTotalValue ?? (n > 0 ? this.baseTotal[0] : 0);
      this.change = new Float32Array(n);
      for (let i = 0; i < n; i++) this.change[i] = this.relativeChange(i);
    }
    // Colour per name first (names repeat across the tree), then per node.
    const names = this.names;
    const nameColour = new Uint8Array(names.length);
    for (let k = 0; k < names.length; k++) nameColour[k] = hashName(names[k]) % WARM;
    this.nameColour = nameColour;
    const colour = new Uint8Array(n);
    if (this.diff) {
      for (let i = 0; i < n; i++) colour[i] = this.baseColour(i);
    } else {
      const nm = this.name;
      for (let i = 0; i < n; i++) colour[i] = nameColour[nm[i]];
    }
    this.colour = colour;
    this.zoomIndex = 0;
    this.hoverIndex = -1;
    this.matchedNames = null;
    this.scrollToRoot = true;
    this.requestDraw();
    this.onZoom(this.path(0));
  }

  /** Comparison share vs baseline share of a node, scaled to [-1, 1]: +1 only in comparison, −1 only in baseline. */
  relativeChange(i) {
    const s = this.grandTotal ? this.total[i] / this.grandTotal : 0;
    const b = this.baseGrand ? this.baseTotal[i] / this.baseGrand : 0;
    const m = Math.max(s, b);
    return m === 0 ? 0 : (s - b) / m;
  }

  baseColour(i) {
    if (this.diff) {
      const c = this.change[i];
      if (Math.abs(c) < 0.05) return DIFF_STEPS;
      return DIFF_STEPS + Math.sign(c) * Math.max(1, Math.round(Math.abs(c) * DIFF_STEPS));
    }
    return this.nameColour[this.name[i]];
  }

  /** "grown", "shrunk" or "same" for a diff node; "match"/"unmatched" while searching; else "warm". */
  colourClass(i) {
    if (this.matchedNames) return this.matchedNames[this.name[i]] ? 'match' : 'unmatched';
    if (!this.diff) return 'warm';
    const k = this.baseColour(i) - DIFF_STEPS;
    return k > 0 ? 'grown' : k < 0 ? 'shrunk' : 'same';
  }

  setOrientation(o) {
    this.orientation = o;
    this.scrollToRoot = true;
    this.requestDraw();
  }

  /**
   * Highlights frames whose name matches; returns the matched value counted once per sample
   * (a match nested under another match is not added again), or null when the search is empty.
   */
  setSearch(predicate) {
    if (!predicate || !this.tree) {
      this.matchedNames = null;
      this.requestDraw();
      return null;
    }
    const m = new Uint8Array(this.names.length);
    for (let k = 0; k < this.names.length; k++) m[k] = predicate(this.names[k]) ? 1 : 0;
    this.matchedNames = m;
    let matched = 0;
    for (let i = 0; i < this.n;) {
      if (m[this.name[i]]) {
        matched += this.total[i];
        i += this.size[i];
      } else {
        i++;
      }
    }
    this.requestDraw();
    return matched;
  }

  zoom(i) {
    if (i < 0 || i >= this.n) return;
    this.zoomIndex = i;
    this.hideTooltip();
    this.requestDraw();
    this.onZoom(this.path(i));
  }

  resetZoom() {
    this.zoom(0);
  }

  /** The node reached from the root through these frame names (each a child of the one before), or -1. */
  findPath(names) {
    let cur = 0;
    for (const want of names) {
      let next = -1;
      const end = cur + this.size[cur];
      for (let c = cur + 1; c < end; c += this.size[c]) {
        if (this.names[this.name[c]] === want) {
          next = c;
          break;
        }
      }
      if (next < 0) return -1;
      cur = next;
    }
    return this.n ? cur : -1;
  }

  /** Root-to-node path as [{index, name}] for the breadcrumb. */
  path(i) {
    const out = [];
    for (let a = i; a >= 0; a = this.parent[a]) out.push({ index: a, name: this.names[this.name[a]] });
    return out.reverse();
  }

  requestDraw() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  rowY(depth, height) {
    return this.orientation === 'flame' ? height - (depth + 1) * ROW : depth * ROW;
  }

  /** Draws now; returns (and records in data-draw-ms) the milliseconds it took. */
  draw() {
    const t0 = performance.now();
    const canvas = this.canvas;
    const ctx = this.ctx;
    const dpr = window.devicePixelRatio || 1;
    const width = Math.max(100, canvas.parentElement.clientWidth);
    const rows = Math.min(this.maxDepth + 1, Math.floor(30000 / (ROW * dpr)));
    const height = Math.max(ROW, rows * ROW);
    if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
      canvas.style.width = `${width}px`;
      canvas.style.height = `${height}px`;
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    this.width = width;
    this.height = height;
    this.rows = rows;
    if (this.n === 0) {
      this.recordDraw(t0, 0);
      return this.lastDrawMs;
    }

    const z = this.zoomIndex;
    const x0 = this.x[z];
    const scale = width / (this.total[z] || 1);
    this.scale = scale;
    const search = this.matchedNames;
    const palette = this.diff ? diffPalette : warmPalette;
    const special = palette.length; // then MATCH, UNMATCHED, ANCESTOR, MERGED
    const fills = [...palette, MATCH, UNMATCHED, ANCESTOR, MERGED];

    // Pass 1: visible nodes and their colour bucket.
    const visible = this.visibleScratch && this.visibleScratch.length >= this.n ? this.visibleScratch : (this.visibleScratch = new Int32Array(this.n));
    const bucketOf = this.bucketScratch && this.bucketScratch.length >= this.n ? this.bucketScratch : (this.bucketScratch = new Uint8Array(this.n));
    const counts = new Int32Array(fills.length);
    let count = 0;
    for (let a = this.parent[z]; a >= 0; a = this.parent[a]) {
      if (this.depth[a] >= rows) continue;
      visible[count] = a;
      bucketOf[count] = special + 2;
      counts[special + 2]++;
      count++;
    }
    // Frames narrower than THIN px that touch the previous one on the same row are merged into one
    // rectangle (a "run"): nothing readable is lost, and a profile with 100,000 visible slivers costs
    // a few thousand rectangles. Runs keep the first frame's colour; in a diff or a search a run
    // also breaks where the colour changes, because there the colour is the information.
    const mergeAny = !search && !this.diff;
    if (!this.runEnd || this.runEnd.length < rows) {
      this.runStart = new Float64Array(rows);
      this.runEnd = new Float64Array(rows);
      this.runBucket = new Uint8Array(rows);
    }
    const runStart = this.runStart;
    const runEnd = this.runEnd;
    const runBucket = this.runBucket;
    runEnd.fill(-1);
    const runs = [];
    const runCounts = new Int32Array(fills.length);
    let drawn = count;
    const flush = (d) => {
      if (runEnd[d] < 0) return;
      runs.push(runStart[d], runEnd[d] - runStart[d], d, runBucket[d]);
      runCounts[runBucket[d]]++;
      runEnd[d] = -1;
    };
    const end = z + this.size[z];
    for (let i = z; i < end;) {
      const w = this.total[i] * scale;
      const d = this.depth[i];
      if (w < MIN_WIDTH || d >= rows) {
        i += this.size[i];
        continue;
      }
      const b = search ? (search[this.name[i]] ? special : special + 1) : this.colour[i];
      drawn++;
      if (w < THIN) {
        const px = (this.x[i] - x0) * scale;
        if (runEnd[d] >= 0 && px - runEnd[d] < 0.5 && (mergeAny || runBucket[d] === b)) {
          runEnd[d] = px + w;
          // Name colours of different frames say nothing once merged: a neutral fill says "many frames".
          if (runBucket[d] !== b) runBucket[d] = special + 3;
        } else {
          flush(d);
          runStart[d] = px;
          runEnd[d] = px + w;
          runBucket[d] = b;
        }
        i++;
        continue;
      }
      visible[count] = i;
      bucketOf[count] = b;
      counts[b]++;
      count++;
      i++;
    }
    for (let d = 0; d < rows; d++) flush(d);

    // Pass 2: one path and one fill per colour.
    const starts = new Int32Array(fills.length + 1);
    for (let b = 0; b < fills.length; b++) starts[b + 1] = starts[b] + counts[b];
    const order = this.orderScratch && this.orderScratch.length >= count ? this.orderScratch : (this.orderScratch = new Int32Array(Math.max(count, this.n)));
    const next = starts.slice(0, fills.length);
    for (let k = 0; k < count; k++) order[next[bucketOf[k]]++] = visible[k];
    const runStarts = new Int32Array(fills.length + 1);
    for (let b = 0; b < fills.length; b++) runStarts[b + 1] = runStarts[b] + runCounts[b];
    const runOrder = new Int32Array(runs.length / 4);
    const runNext = runStarts.slice(0, fills.length);
    for (let r = 0; r < runs.length; r += 4) runOrder[runNext[runs[r + 3]]++] = r;
    for (let b = 0; b < fills.length; b++) {
      if (counts[b] === 0 && runCounts[b] === 0) continue;
      ctx.fillStyle = fills[b];
      ctx.beginPath();
      for (let k = starts[b]; k < starts[b + 1]; k++) {
        const i = order[k];
        const ancestor = this.depth[i] < this.depth[z];
        const px = ancestor ? 0 : (this.x[i] - x0) * scale;
        const w = ancestor ? width : this.total[i] * scale;
        ctx.rect(px, this.rowY(this.depth[i], height), w > 2 ? w - 1 : w, ROW - 1);
      }
      for (let k = runStarts[b]; k < runStarts[b + 1]; k++) {
        const r = runOrder[k];
        ctx.rect(runs[r], this.rowY(runs[r + 2], height), runs[r + 1], ROW - 1);
      }
      ctx.fill();
    }
    this.runCount = runs.length / 4;

    // Labels on frames wide enough to read.
    ctx.font = '12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';
    ctx.textBaseline = 'middle';
    const charW = ctx.measureText('mmmmmmmmmm').width / 10;
    for (let k = 0; k < count; k++) {
      const i = visible[k];
      const ancestor = this.depth[i] < this.depth[z];
      const w = ancestor ? width : this.total[i] * scale;
      if (w < LABEL_MIN) continue;
      const px = ancestor ? 0 : (this.x[i] - x0) * scale;
      const fit = Math.floor((w - 6) / charW);
      let label = this.names[this.name[i]];
      if (fit < 2) continue;
      if (label.length > fit) label = `${label.slice(0, fit - 1)}…`;
      ctx.fillStyle = this.diff && Math.abs(this.change[i]) > 0.6 && !search ? '#fff' : '#1b1b1b';
      if (search && bucketOf[k] === special) ctx.fillStyle = '#fff';
      ctx.fillText(label, px + 3, this.rowY(this.depth[i], height) + ROW / 2);
    }
    const hr = this.hoverIndex >= 0 && this.hoverIndex < this.n ? this.rectOf(this.hoverIndex) : null;
    if (hr) {
      ctx.strokeStyle = '#1b1b1b';
      ctx.lineWidth = 1.5;
      ctx.strokeRect(hr.x + 0.75, hr.y + 0.75, Math.max(1, (hr.w > 2 ? hr.w - 1 : hr.w) - 1.5), hr.h - 1.5);
    }
    this.recordDraw(t0, drawn);
    if (this.scrollToRoot) {
      // A new profile starts with its root in view: the bottom of a flame graph, the top of an icicle.
      this.scrollToRoot = false;
      const box = canvas.parentElement;
      box.scrollTop = this.orientation === 'flame' ? box.scrollHeight : 0;
    }
    return this.lastDrawMs;
  }

  recordDraw(t0, count) {
    this.lastDrawMs = performance.now() - t0;
    this.visibleCount = count;
    this.canvas.dataset.nodes = String(this.n);
    this.canvas.dataset.visible = String(count);
    this.canvas.dataset.drawMs = this.lastDrawMs.toFixed(2);
    this.canvas.dataset.zoom = this.n ? this.names[this.name[this.zoomIndex]] : '';
  }

  /** The node drawn at CSS pixel (px, py) of the canvas, or -1. */
  indexAt(px, py) {
    if (!this.n || !this.height) return -1;
    const depth = this.orientation === 'flame' ? Math.floor((this.height - py) / ROW) : Math.floor(py / ROW);
    if (depth < 0 || depth >= this.rows) return -1;
    const z = this.zoomIndex;
    const zd = this.depth[z];
    if (depth < zd) {
      let a = z;
      while (this.depth[a] > depth) a = this.parent[a];
      return a;
    }
    const v = this.x[z] + px / this.scale;
    let cur = z;
    if (v < this.x[z] || v >= this.x[z] + this.total[z]) return -1;
    while (this.depth[cur] < depth) {
      const end = cur + this.size[cur];
      let found = -1;
      for (let c = cur + 1; c < end; c += this.size[c]) {
        if (v >= this.x[c] && v < this.x[c] + this.total[c]) {
          found = c;
          break;
        }
      }
      if (found < 0) return -1;
      cur = found;
    }
    return this.total[cur] * this.scale < MIN_WIDTH ? -1 : cur;
  }

  /** Where node i is drawn (CSS px), or null when it is not visible. */
  rectOf(i) {
    const z = this.zoomIndex;
    if (this.depth[i] >= this.rows) return null;
    if (this.depth[i] < this.depth[z]) return { x: 0, y: this.rowY(this.depth[i], this.height), w: this.width, h: ROW - 1 };
    if (i < z || i >= z + this.size[z]) return null;
    const w = this.total[i] * this.scale;
    if (w < MIN_WIDTH) return null;
    return { x: (this.x[i] - this.x[z]) * this.scale, y: this.rowY(this.depth[i], this.height), w, h: ROW - 1 };
  }

  describe(i) {
    if (i < 0) return null;
    const d = {
      index: i,
      name: this.names[this.name[i]],
      depth: this.depth[i],
      total: this.total[i],
      self: this.self[i],
      colourClass: this.colourClass(i),
      rect: this.rectOf(i),
    };
    if (this.diff) {
      d.baseTotal = this.baseTotal[i];
      d.baseSelf = this.baseSelf[i];
      d.change = this.change[i];
    }
    return d;
  }

  setHover(i) {
    if (i === this.hoverIndex) return;
    this.hoverIndex = i;
    this.requestDraw();
  }

  hover(px, py, clientX, clientY) {
    const i = this.indexAt(px, py);
    this.setHover(i);
    if (i < 0) {
      this.hideTooltip();
      return;
    }
    const u = this.unit;
    const t = this.tooltip;
    t.replaceChildren();
    const title = document.createElement('strong');
    title.textContent = this.names[this.name[i]];
    t.append(title);
    const line = (label, text) => {
      const row = document.createElement('div');
      const l = document.createElement('span');
      l.className = 'tt-label';
      l.textContent = label;
      row.append(l, document.createTextNode(text));
      t.append(row);
    };
    if (this.diff) {
      const s = this.grandTotal ? (100 * this.total[i]) / this.grandTotal : 0;
      const b = this.baseGrand ? (100 * this.baseTotal[i]) / this.baseGrand : 0;
      line('baseline total', `${formatValue(this.baseTotal[i], u)} (${formatPercent(this.baseTotal[i], this.baseGrand)})`);
      line('comparison total', `${formatValue(this.total[i], u)} (${formatPercent(this.total[i], this.grandTotal)})`);
      line('baseline self', `${formatValue(this.baseSelf[i], u)} (${formatPercent(this.baseSelf[i], this.baseGrand)})`);
      line('comparison self', `${formatValue(this.self[i], u)} (${formatPercent(this.self[i], this.grandTotal)})`);
      line('change', `${formatSigned(s - b, 2)} percentage points of total${b > 0 ? ` (${formatSigned((100 * (s - b)) / b, 0)}% relative)` : s > 0 ? ' (new)' : ''}`);
    } else {
      line('total', `${formatValue(this.total[i], u)} (${formatPercent(this.total[i], this.grandTotal)})`);
      line('self', `${formatValue(this.self[i], u)} (${formatPercent(this.self[i], this.grandTotal)})`);
      const z = this.zoomIndex;
      if (z !== 0 && i !== z && this.depth[i] > this.depth[z]) {
        line('of zoomed frame', formatPercent(this.total[i], this.total[z]));
      }
    }
    // Priced trees (unit=usd|kwh|co2e) are estimates: the tooltip says so beside the unit.
    const provenance = this.tree.provenance;
    if (provenance && provenance !== 'measured') line('values', `${unitWords(u)}, ${provenance}`);
    if (this.matchedNames && this.matchedNames[this.name[i]]) line('search', 'matches');
    t.hidden = false;
    const r = t.getBoundingClientRect();
    const left = Math.min(clientX + 14, window.innerWidth - r.width - 8);
    const top = clientY + 16 + r.height > window.innerHeight ? clientY - r.height - 8 : clientY + 16;
    t.style.left = `${Math.max(4, left)}px`;
    t.style.top = `${Math.max(4, top)}px`;
  }

  hideTooltip() {
    this.tooltip.hidden = true;
  }
}
