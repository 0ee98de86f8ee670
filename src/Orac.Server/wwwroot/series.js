// The value-over-time chart above the flame graph: a canvas area chart of /api/v1/query/series
// with a brush. Drag selects the comparison (or only) range; shift-drag selects the diff baseline.

import { formatValue, formatTime } from './format.js';

const PAD_LEFT = 86;
const PAD_BOTTOM = 18;

export class SeriesChart {
  constructor(canvas, { onBrush }) {
    this.canvas = canvas;
    this.ctx = canvas.getContext('2d');
    this.onBrush = onBrush;
    this.data = null;
    this.drag = null;
    canvas.addEventListener('mousedown', (e) => {
      if (!this.data || e.offsetX < PAD_LEFT) return;
      this.drag = { x0: e.offsetX, x1: e.offsetX, base: e.shiftKey };
      e.preventDefault();
    });
    window.addEventListener('mousemove', (e) => {
      if (!this.drag) return;
      const r = canvas.getBoundingClientRect();
      this.drag.x1 = Math.max(PAD_LEFT, Math.min(r.width, e.clientX - r.left));
      this.draw();
    });
    window.addEventListener('mouseup', () => {
      const d = this.drag;
      this.drag = null;
      if (!d) return;
      this.draw();
      if (Math.abs(d.x1 - d.x0) < 3) return;
      const a = this.timeAt(Math.min(d.x0, d.x1));
      const b = this.timeAt(Math.max(d.x0, d.x1));
      this.onBrush(Math.round(a), Math.round(b), d.base);
    });
    new ResizeObserver(() => this.draw()).observe(canvas.parentElement);
  }

  /** series: the /series answer; [t0, t1]: the x axis (unix ms); ranges: [{from, until, kind}] to shade. */
  setData(series, t0, t1, ranges, extra, extraName) {
    this.data = series;
    this.extra = extra || null;
    this.extraName = extraName || '';
    this.t0 = t0;
    this.t1 = Math.max(t1, t0 + 1);
    this.ranges = ranges || [];
    this.draw();
  }

  clear() {
    this.data = null;
    this.draw();
  }

  /** Bucket width in ms: the answer's step (ms as a number, or a duration like "30s"). */
  stepMs() {
    const st = this.data && this.data.step;
    if (typeof st === 'number') return st;
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(String(st || ''));
    return m ? Number(m[1]) * { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2]] : 0;
  }

  stepText() {
    const ms = this.stepMs();
    if (!ms) return 'step';
    if (ms % 86400e3 === 0) return `${ms / 86400e3} d`;
    if (ms % 3600e3 === 0) return `${ms / 3600e3} h`;
    if (ms % 60e3 === 0) return `${ms / 60e3} min`;
    return ms % 1e3 === 0 ? `${ms / 1e3} s` : `${ms} ms`;
  }

  timeAt(px) {
    return this.t0 + ((px - PAD_LEFT) / (this.width - PAD_LEFT)) * (this.t1 - this.t0);
  }

  xOf(t) {
    return PAD_LEFT + ((t - this.t0) / (this.t1 - this.t0)) * (this.width - PAD_LEFT);
  }

  draw() {
    const canvas = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const width = Math.max(200, canvas.parentElement.clientWidth);
    const height = 110;
    if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
      canvas.style.width = `${width}px`;
      canvas.style.height = `${height}px`;
    }
    this.width = width;
    const ctx = this.ctx;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    if (!this.data) return;
    const plotH = height - PAD_BOTTOM - 6;
    const points = this.data.points || [];
    let max = 0;
    for (const [, v] of points) if (v > max) max = v;
    if (this.extra) for (const [, v] of this.extra.points || []) if (v > max) max = v;
    const yOf = (v) => 6 + plotH - (max > 0 ? (v / max) * plotH : 0);

    for (const r of this.ranges) {
      ctx.fillStyle = r.kind === 'base' ? 'rgba(60,110,230,0.12)' : 'rgba(230,70,50,0.10)';
      const a = this.xOf(r.from);
      ctx.fillRect(a, 6, this.xOf(r.until) - a, plotH);
    }

    ctx.strokeStyle = '#c9c3b8';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(PAD_LEFT, 6 + plotH + 0.5);
    ctx.lineTo(width, 6 + plotH + 0.5);
    ctx.stroke();

    // Each point is one bucket [t, t + step): bars, so sparse data is not joined into a misleading line.
    const stepMs = this.stepMs();
    const bars = (pts, fill, inset) => {
      ctx.fillStyle = fill;
      for (const [t, v] of pts) {
        const a = this.xOf(t);
        const w = Math.max(1, this.xOf(t + stepMs) - a - 0.5);
        const y = yOf(v);
        ctx.fillRect(a + inset, y, Math.max(1, w - 2 * inset), 6 + plotH - y);
      }
    };
    bars(points, 'rgba(217,72,15,0.75)', 0);
    if (this.extra) bars(this.extra.points || [], 'rgba(156,26,177,0.85)', Math.min(2, stepMs ? 0.25 * (this.xOf(this.t0 + stepMs) - PAD_LEFT) : 0));

    ctx.fillStyle = '#555';
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    ctx.textAlign = 'right';
    ctx.fillText(formatValue(max, this.data.unit, true), PAD_LEFT - 6, 4);
    ctx.fillText(`per ${this.stepText()}`, PAD_LEFT - 6, 18);
    ctx.fillText(formatValue(0, this.data.unit), PAD_LEFT - 6, 6 + plotH - 12);
    const span = this.t1 - this.t0;
    ctx.textAlign = 'left';
    ctx.fillText(`${formatTime(this.t0, span)} UTC`, PAD_LEFT, height - PAD_BOTTOM + 4);
    ctx.textAlign = 'center';
    ctx.fillText(formatTime(this.t0 + span / 2, span), PAD_LEFT + (width - PAD_LEFT) / 2, height - PAD_BOTTOM + 4);
    ctx.textAlign = 'right';
    ctx.fillText(formatTime(this.t1, span), width - 2, height - PAD_BOTTOM + 4);
    if (this.extra) {
      ctx.textAlign = 'right';
      ctx.fillStyle = 'rgb(156,26,177)';
      ctx.fillText(`■ ${this.extraName}`, width - 4, 4);
      ctx.fillStyle = 'rgb(217,72,15)';
      ctx.fillText('■ all', width - 4, 18);
      ctx.fillStyle = '#555';
    }
    if (points.length === 0) {
      ctx.textAlign = 'center';
      ctx.fillText('no samples in this range', PAD_LEFT + (width - PAD_LEFT) / 2, plotH / 2);
    }

    if (this.drag) {
      const a = Math.min(this.drag.x0, this.drag.x1);
      ctx.fillStyle = this.drag.base ? 'rgba(60,110,230,0.25)' : 'rgba(230,70,50,0.25)';
      ctx.fillRect(a, 6, Math.abs(this.drag.x1 - this.drag.x0), plotH);
    }
  }
}
