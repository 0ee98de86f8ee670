// Number formatting for Orac's units. Every figure the UI shows goes through here so it always
// carries its unit: nanoseconds as ns/µs/ms/s, bytes as B/KB/MB/GB (powers of 1024), counts as-is;
// money as US dollars, energy as kWh (mWh…MWh), emissions as g/kg/t CO2e (docs/cost.md).

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
    // Priced flame trees (GET /api/v1/query?unit=usd|kwh|co2e) carry whole micro-units.
    case 'microdollars': return formatUsd(value / 1e6);
    case 'milliwatt-hours': return formatKwh(value / 1e6);
    case 'milligrams CO2e': return formatCo2e(value / 1e6);
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

/** Decimals that give `sig` significant digits for |v| < 1 (at least `min`, at most 12). */
function smallDecimals(v, sig, min) {
  const a = Math.abs(v);
  if (a === 0 || a >= 1) return min;
  return Math.min(12, Math.max(min, sig - 1 - Math.floor(Math.log10(a))));
}

/** Drops trailing zeros past `keep` decimals: `0.500` → `0.50` with keep 2. */
function trimZeros(text, keep) {
  const dot = text.indexOf('.');
  if (dot < 0) return text;
  let end = text.length;
  while (end > dot + 1 + keep && text[end - 1] === '0') end--;
  return text.slice(0, end === dot + 1 ? dot : end);
}

/** A plain number with grouping (`1,234.5`), three significant digits below 1 (`0.0523`). */
function number(v, min = 2) {
  const a = Math.abs(v);
  if (a >= 1) {
    const digits = a >= 100 ? 0 : a >= 10 ? 1 : 2;
    return v.toLocaleString('en-US', { minimumFractionDigits: Math.min(min, digits), maximumFractionDigits: Math.max(min, digits) });
  }
  return trimZeros(v.toFixed(smallDecimals(v, 3, min)), min);
}

/**
 * US dollars: `$1,234.56` (cents from a dollar up), small amounts with three significant digits
 * (`$0.0523`, `$0.000123`) so a cheap function never shows as `$0.00`.
 */
export function formatUsd(dollars) {
  if (!Number.isFinite(dollars)) return '$?';
  const a = Math.abs(dollars);
  const sign = dollars < 0 ? '-' : '';
  if (a === 0) return '$0.00';
  if (a >= 1) return `${sign}$${a.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  return `${sign}$${trimZeros(a.toFixed(smallDecimals(a, 3, 2)), 2)}`;
}

/** Energy from kilowatt-hours, scaled: `1.23 MWh`, `12.3 kWh`, `45.6 Wh`, `0.789 mWh`. */
export function formatKwh(kwh) {
  if (!Number.isFinite(kwh)) return '? kWh';
  const a = Math.abs(kwh);
  if (a === 0) return '0 kWh';
  if (a >= 1000) return `${number(kwh / 1000, 0)} MWh`;
  if (a >= 1) return `${number(kwh, 0)} kWh`;
  if (a >= 0.001) return `${number(kwh * 1000, 0)} Wh`;
  return `${number(kwh * 1e6, 0)} mWh`;
}

/** Emissions from kilograms CO2e, scaled: `1.23 t CO2e`, `12.3 kg CO2e`, `456 g CO2e`, `7.8 mg CO2e`. */
export function formatCo2e(kg) {
  if (!Number.isFinite(kg)) return '? kg CO2e';
  const a = Math.abs(kg);
  if (a === 0) return '0 kg CO2e';
  if (a >= 1000) return `${number(kg / 1000, 0)} t CO2e`;
  if (a >= 1) return `${number(kg, 0)} kg CO2e`;
  if (a >= 0.001) return `${number(kg * 1000, 0)} g CO2e`;
  return `${number(kg * 1e6, 0)} mg CO2e`;
}

/** What a priced or plain unit measures, in words for labels: `US dollars`, `CPU time`. */
export function unitWords(unit) {
  switch (unit) {
    case 'microdollars': return 'US dollars';
    case 'milliwatt-hours': return 'energy (kWh)';
    case 'milligrams CO2e': return 'emissions (CO2e)';
    case 'nanoseconds': return 'CPU time';
    case 'bytes': return 'bytes';
    case 'count': case '': case undefined: return 'samples';
    default: return unit;
  }
}
