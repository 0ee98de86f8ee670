// The one place the UI talks HTTP: every call sends the bearer token and turns a non-2xx answer
// into an ApiError carrying the server's own JSON message (docs/api.md: {"error", "status"}).

const tokenKey = 'orac.token';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Token from `#token=…` (then removed from the address bar and kept in sessionStorage), else the stored one. */
export function takeToken() {
  const hash = window.location.hash.replace(/^#/, '');
  const params = new URLSearchParams(hash);
  const fromHash = params.get('token');
  if (fromHash) {
    sessionStorage.setItem(tokenKey, fromHash);
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', window.location.pathname + window.location.search + (rest ? `#${rest}` : ''));
  }
  return sessionStorage.getItem(tokenKey);
}

export function storeToken(token) {
  sessionStorage.setItem(tokenKey, token);
}

export function forgetToken() {
  sessionStorage.removeItem(tokenKey);
}

/** Current token (sessionStorage), or '' — the views use it only to decide whether to ask for one. */
export function currentToken() {
  return sessionStorage.getItem(tokenKey) || '';
}

async function call(path, params, { method = 'GET', body, signal } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '') continue;
    url.searchParams.set(k, String(v));
  }
  const headers = { Authorization: `Bearer ${sessionStorage.getItem(tokenKey) || ''}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, `cannot reach the Orac server (${e.message})`);
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const answer = await response.json();
      if (answer && typeof answer.error === 'string') message = answer.error;
    } catch {
      // Not JSON (a proxy's page): the status line is all there is.
    }
    throw new ApiError(response.status, message);
  }
  return response;
}

/** GET a JSON answer. */
export async function getJson(path, params, signal) {
  return (await call(path, params, { signal })).json();
}

/** POST a JSON body, answer parsed as JSON (fleet control, research tasks). */
export async function postJson(path, body, params) {
  return (await call(path, params, { method: 'POST', body })).json();
}

/** GET any answer as a Blob (exports: pprof, folded, svg). */
export async function getBlob(path, params) {
  return (await call(path, params)).blob();
}

/**
 * Fetches an export with the token and saves it from a Blob: a plain link cannot carry the
 * Authorization header, so every download in the UI goes through here.
 */
export async function download(path, params, filename) {
  const blob = await getBlob(path, params);
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

/** File name suffix for an export format. */
export function exportSuffix(format) {
  return format === 'pprof' ? 'pb.gz' : format;
}
