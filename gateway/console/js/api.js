/**
 * The console's calls to the gateway's API: same origin, the session cookie, and the CSRF token on
 * every state-changing request. Errors come back as `ApiError` with the API's code, message and field.
 */

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code ?? "HTTP";
    this.field = body?.error?.field ?? null;
  }
}

let csrfToken = sessionStorage.getItem("icl.csrf");

export function setCsrf(token) {
  csrfToken = token;
  if (token) sessionStorage.setItem("icl.csrf", token);
  else sessionStorage.removeItem("icl.csrf");
}

async function send(method, path, { body, query, raw, contentType } = {}) {
  const url = new URL(path, location.origin);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, String(value));
  }
  const headers = { accept: "application/json" };
  if (method !== "GET" && csrfToken) headers["x-csrf-token"] = csrfToken;
  let payload;
  if (raw !== undefined) {
    payload = raw;
    headers["content-type"] = contentType || "application/octet-stream";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["content-type"] = "application/json";
  }
  const response = await fetch(url, { method, headers, body: payload, credentials: "same-origin" });
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}

export const api = {
  get: (path, query) => send("GET", path, { query }),
  post: (path, body, query) => send("POST", path, { body, query }),
  upload: (path, file, query, contentType) => send("POST", path, { raw: file, query, contentType }),
  del: (path) => send("DELETE", path),
};

/** `/api/v1/periods/ACME-GLOBEX/2030-01` from an agreement name and a period (202601 or "2026-01"). */
export function periodPath(agreement, period, tail = "") {
  const text = String(period);
  const monthText = text.includes("-") ? text : `${text.slice(0, 4)}-${text.slice(4)}`;
  return `/api/v1/periods/${encodeURIComponent(agreement)}/${monthText}${tail}`;
}
