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

async function call(path, params) {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '') continue;
    url.searchParams.set(k, String(v));
  }
  let response;
  try {
    response = await fetch(url, { headers: { Authorization: `Bearer ${sessionStorage.getItem(tokenKey) || ''}` } });
  } catch (e) {
    throw new ApiError(0, `cannot reach the Orac server (${e.message})`);
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      if (body && typeof body.error === 'string') message = body.error;
    } catch {
      // Not JSON (a proxy's page): the status line is all there is.
    }
    throw new ApiError(response.status, message);
  }
  return response;
}

/** GET a JSON answer. */
export async function getJson(path, params) {
  return (await call(path, params)).json();
}

/** GET any answer as a Blob (exports: pprof, folded, svg). */
export async function getBlob(path, params) {
  return (await call(path, params)).blob();
}
