/**
 * Headers on every response of the gateway: no MIME sniffing, no referrer, no framing, and a
 * Content-Security-Policy that allows nothing (JSON needs nothing) except on the docs page, which may
 * load its own script and style. API answers are never cached: they carry a principal's data.
 */
import type { RequestHandler } from "express";
import { DOCS_CSP } from "./docs-page";

const NOTHING_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const isDocs = (path: string) => path === "/docs" || path.startsWith("/docs/") || path === "/openapi.json";

export const securityHeaders: RequestHandler = (req, res, next) => {
  res.set({
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Content-Security-Policy": req.path === "/docs" ? DOCS_CSP : NOTHING_CSP,
    // The documentation may be revalidated; everything else (API data, probes, metrics) is never stored.
    "Cache-Control": isDocs(req.path) ? "no-cache" : "no-store",
  });
  next();
};
