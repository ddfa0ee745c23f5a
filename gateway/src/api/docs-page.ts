/**
 * `/docs`: a small page that renders `/openapi.json` — every route with its roles, scope, parameters,
 * request and response schemas. Self-contained: its script and style are served from this gateway
 * (`/docs/docs.js`, `/docs/docs.css`), so the Content-Security-Policy allows nothing but 'self'.
 * The script builds the page with textContent only; nothing from the document is parsed as HTML.
 */

export const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Interconnect Ledger — API</title>
<link rel="stylesheet" href="/docs/docs.css">
<script src="/docs/docs.js" defer></script>
</head>
<body>
<header><h1>Interconnect Ledger — node API</h1><p id="info">Loading /openapi.json…</p></header>
<main id="routes"></main>
</body>
</html>
`;

export const DOCS_CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}
header{background:#0b3d5c;color:#fff;padding:16px 24px}header h1{margin:0 0 4px;font-size:20px}
main{padding:16px 24px;max-width:1100px}
details{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:8px 0}
summary{cursor:pointer;padding:8px 12px;display:flex;gap:12px;align-items:baseline}
.method{font:600 12px monospace;text-transform:uppercase;padding:2px 6px;border-radius:4px;background:#dbeafe;min-width:40px;text-align:center}
.method.post{background:#dcfce7}.path{font-family:monospace;font-weight:600}.sum{color:#57606a}
.body{padding:4px 16px 12px}h2{font-size:16px;margin:20px 0 4px}h3{font-size:13px;margin:12px 0 4px}
.roles span{display:inline-block;background:#eef;border-radius:4px;padding:1px 6px;margin-right:4px;font-size:12px}
pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:4px;padding:8px;overflow:auto;font-size:12px;max-height:360px}
table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:left;font-size:12px}
`;

export const DOCS_JS = `"use strict";
(function () {
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = String(text);
    return node;
  }
  function schemaBlock(title, schema) {
    var box = el("div");
    box.appendChild(el("h3", null, title));
    box.appendChild(el("pre", null, JSON.stringify(schema, null, 2)));
    return box;
  }
  function render(doc) {
    document.getElementById("info").textContent = doc.info.title + " " + doc.info.version + " — " + doc.info.description;
    var main = document.getElementById("routes");
    var byTag = {};
    Object.keys(doc.paths).forEach(function (path) {
      Object.keys(doc.paths[path]).forEach(function (method) {
        var op = doc.paths[path][method];
        var tag = (op.tags && op.tags[0]) || "other";
        (byTag[tag] = byTag[tag] || []).push({ path: path, method: method, op: op });
      });
    });
    Object.keys(byTag).forEach(function (tag) {
      main.appendChild(el("h2", null, tag));
      byTag[tag].forEach(function (entry) {
        var op = entry.op;
        var details = el("details");
        var summary = el("summary");
        summary.appendChild(el("span", "method " + entry.method, entry.method));
        summary.appendChild(el("span", "path", entry.path));
        summary.appendChild(el("span", "sum", op.summary));
        details.appendChild(summary);
        var body = el("div", "body");
        if (op.description) body.appendChild(el("p", null, op.description));
        var roles = el("p", "roles");
        roles.appendChild(document.createTextNode("Who: "));
        (op["x-roles"] === "public" ? ["public"] : op["x-roles"]).forEach(function (role) {
          roles.appendChild(el("span", null, role));
        });
        if (op["x-scope"]) roles.appendChild(document.createTextNode(" token scope " + op["x-scope"]));
        body.appendChild(roles);
        if (op.parameters && op.parameters.length) {
          var table = el("table");
          var head = el("tr");
          ["name", "in", "required", "schema"].forEach(function (h) { head.appendChild(el("th", null, h)); });
          table.appendChild(head);
          op.parameters.forEach(function (p) {
            var row = el("tr");
            row.appendChild(el("td", null, p.name));
            row.appendChild(el("td", null, p.in));
            row.appendChild(el("td", null, p.required ? "yes" : "no"));
            row.appendChild(el("td", null, JSON.stringify(p.schema)));
            table.appendChild(row);
          });
          body.appendChild(el("h3", null, "Parameters"));
          body.appendChild(table);
        }
        if (op.requestBody) body.appendChild(schemaBlock("Request body", op.requestBody.content["application/json"].schema));
        Object.keys(op.responses).forEach(function (status) {
          var content = op.responses[status].content || {};
          var json = content["application/json"];
          if (json && json.schema && !json.schema.$ref) body.appendChild(schemaBlock("Response " + status, json.schema));
          else body.appendChild(el("p", null, "Response " + status + ": " + op.responses[status].description));
        });
        details.appendChild(body);
        main.appendChild(details);
      });
    });
  }
  fetch("/openapi.json", { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(render)
    .catch(function (e) { document.getElementById("info").textContent = "Could not load /openapi.json: " + e; });
})();
`;
