// Number formatting for Orac's units. Every figure the UI shows goes through here so it always
// carries its unit: nanoseconds as ns/µs/ms/s, bytes as B/KB/MB/GB (powers of 1024), counts as-is.

const timeSteps = [[1e9, 's'], [1e6, 'ms'], [1e3, 'µs'], [1, 'ns']];
const byteSteps = [[1024 ** 4, 'TB'], [1024 ** 3, 'GB'], [1024 ** 2, 'MB'], [1024, 'KB'], [1, 'B']];

function scaled(value, steps) {
  const abs = Math.abs(value);
  for (const [size, suffix] of steps) {
    if (abs >= size) {
      const v = value / size;
      return `${v.toFixed(Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2)} ${suffix}`;
    }
  }
  return `0 ${steps[steps.length - 1][1]}`;
}

const countSteps = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];

/**
 * A value in the profile's unit, with the unit: `12.3 ms`, `4.00 MB`, `1,234 samples`. With
 * `compact`, counts of a thousand or more are shortened (`4.90M samples`) for axis labels.
 */
export function formatValue(value, unit, compact = false) {
  switch (unit) {
    case 'nanoseconds': return scaled(value, timeSteps);
    case 'bytes': return scaled(value, byteSteps);
    default: {
      const name = unit === 'count' || !unit ? (value === 1 ? 'sample' : 'samples') : unit;
      if (compact && Math.abs(value) >= 1e3) {
        const [size, suffix] = countSteps.find(([k]) => Math.abs(value) >= k);
        const v = value / size;
        return `${v.toFixed(Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2)}${suffix} ${name}`;
      }
      return `${Math.round(value).toLocaleString('en-US')} ${name}`;
    }
  }
}

/** A share as a percentage with sensible precision: `12.3%`, `0.04%`. */
export function formatPercent(part, whole) {
  if (!whole || !part) return '0%';
  const p = (100 * part) / whole;
  return `${p >= 10 ? p.toFixed(1) : p >= 0.1 ? p.toFixed(2) : p.toFixed(3)}%`;
}

/** A signed change in percentage points or a relative change, for diff tooltips. */
export function formatSigned(n, digits = 1) {
  return `${n > 0 ? '+' : ''}${n.toFixed(digits)}`;
}

/** Unix milliseconds as a short UTC time (`05:12:30` or `Nov 29 05:12` when far from now). */
export function formatTime(ms, spanMs) {
  const d = new Date(ms);
  const iso = d.toISOString();
  if (spanMs !== undefined && spanMs > 36 * 3600e3) return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
  return iso.slice(11, 19);
}

/** Bytes with their unit (`12.0 MB`, powers of 1024). */
export function formatBytes(n) {
  return scaled(n, byteSteps);
}

/** A duration in milliseconds, short: `850 ms`, `30 s`, `2.5 min`, `3.0 h`. */
export function formatDuration(ms) {
  const abs = Math.abs(ms);
  if (abs < 1000) return `${Math.round(ms)} ms`;
  if (abs < 120e3) return `${Number.isInteger(ms / 1000) ? ms / 1000 : (ms / 1000).toFixed(1)} s`;
  if (abs < 2 * 3600e3) return `${(ms / 60e3).toFixed(1)} min`;
  if (abs < 48 * 3600e3) return `${(ms / 3600e3).toFixed(1)} h`;
  return `${(ms / 86400e3).toFixed(1)} d`;
}

/** How long ago Unix ms `ms` was: `just now`, `4 s ago`, `3 min ago`, `2 h ago`, `5 d ago`. */
export function formatAge(ms, nowMs = Date.now()) {
  const d = Math.max(0, nowMs - ms);
  if (d < 1000) return 'just now';
  if (d < 120e3) return `${Math.floor(d / 1000)} s ago`;
  if (d < 2 * 3600e3) return `${Math.floor(d / 60e3)} min ago`;
  if (d < 48 * 3600e3) return `${Math.floor(d / 3600e3)} h ago`;
  return `${Math.floor(d / 86400e3)} d ago`;
}

/** Unix ms as a full UTC date and time: `2026-11-29 08:40:12 UTC`. */
export function formatDateTime(ms) {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
