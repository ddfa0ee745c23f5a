/**
 * API tokens, for admins signed in with their key: issue one for a machine (an exporter, a monitor,
 * an ingest job) with a name, the roles and scopes it needs and an expiry; its secret is shown once,
 * here, and never again (the node keeps only its hash); list them; revoke one. The scopes offered are
 * the API's own, read from its OpenAPI document with what each lets a token call, so the page never
 * keeps a list of its own. A token holds no role its issuer lacks, except operator.
 */
import { api } from "../api.js";
import { badge, flash, h, mount, table } from "../dom.js";
import { isoWhen } from "../format.js";
import { attempt, session } from "../main.js";

export const TOKEN_ROLES = ["admin"];

/** Every scope of the API with the summaries of the routes it opens, from /openapi.json. */
async function scopesOfApi() {
  const doc = await api.get("/openapi.json");
  const scopes = new Map();
  for (const [path, operations] of Object.entries(doc.paths ?? {})) {
    for (const [method, operation] of Object.entries(operations)) {
      const scope = operation["x-scope"];
      if (!scope) continue;
      if (!scopes.has(scope)) scopes.set(scope, []);
      scopes.get(scope).push(`${method.toUpperCase()} ${path}`);
    }
  }
  return [...scopes].sort(([x], [y]) => x.localeCompare(y));
}

function stateOf(token) {
  if (token.revokedAt) return badge("revoked", "bad", `revoked ${isoWhen(token.revokedAt)}`);
  if (Date.parse(token.expiresAt) <= Date.now()) return badge("expired", "warn");
  return badge("live", "ok");
}

export async function tokensPage(app) {
  const [{ tokens }, scopes] = await Promise.all([api.get("/api/v1/auth/tokens"), scopesOfApi()]);
  const reload = () => tokensPage(app);
  const secretBox = h("div", { id: "token-secret-box" });
  mount(
    app,
    h("h1", "API tokens"),
    h("div.grid", issuePanel(scopes, secretBox, reload), secretBox),
    h(
      "div.panel",
      h("h2", "Tokens"),
      table(
        [
          ["Name", (t) => t.name],
          ["Id", (t) => h("span.mono", t.id)],
          ["Roles", (t) => t.roles.join(", ")],
          ["Scopes", (t) => t.scopes.map((s) => h("div", s))],
          ["Issued", (t) => isoWhen(t.createdAt)],
          ["Expires", (t) => isoWhen(t.expiresAt)],
          ["Last used", (t) => (t.lastUsedAt ? isoWhen(t.lastUsedAt) : "never")],
          ["State", stateOf],
          [
            "",
            (t) =>
              t.revokedAt
                ? null
                : h(
                    "button",
                    {
                      type: "button",
                      class: "revoke-token",
                      dataset: { token: t.id },
                      onclick: (event) => revoke(t, reload, event.currentTarget),
                    },
                    `Revoke ${t.name}`,
                  ),
          ],
        ],
        tokens,
        { empty: "No token issued yet.", attrs: { id: "tokens-table" } },
      ),
    ),
  );
}

function issuePanel(scopes, secretBox, reload) {
  const name = h("input", { id: "token-name", maxlength: 100, autocomplete: "off" });
  const days = h("input", { id: "token-days", type: "number", min: 1, max: 366, value: 90 });
  // A token may hold the issuer's roles and operator (admins grant that one through the config anyway).
  const roles = [...new Set(["operator", ...session.current.roles])];
  const roleBoxes = roles.map((role) => [
    role,
    h("input", { type: "checkbox", id: `token-role-${role}`, value: role }),
  ]);
  const scopeBoxes = scopes.map(([scope, routes]) => [
    scope,
    routes,
    h("input", { type: "checkbox", id: `token-scope-${scope.replace(":", "-")}`, value: scope }),
  ]);
  const issue = () =>
    attempt(async () => {
      const body = {
        name: name.value.trim(),
        roles: roleBoxes.filter(([, box]) => box.checked).map(([role]) => role),
        scopes: scopeBoxes.filter(([, , box]) => box.checked).map(([scope]) => scope),
        expiresInDays: Number(days.value),
      };
      if (body.name === "") throw new Error("give the token a name (what will use it)");
      if (body.roles.length === 0) throw new Error("choose at least one role");
      if (body.scopes.length === 0) throw new Error("choose at least one scope");
      const token = await api.post("/api/v1/auth/tokens", body);
      await reload();
      showSecret(document.getElementById("token-secret-box") ?? secretBox, token);
      flash(`Issued ${token.name}; copy its secret now, it is not shown again.`);
    });
  return h(
    "div.panel",
    h("h2", "Issue a token"),
    h("label", { for: "token-name" }, "Name (what will use it)"),
    name,
    h(
      "fieldset.choices",
      h("legend", "Roles"),
      roleBoxes.map(([role, box]) => h("div.choice", box, h("label", { for: box.id }, role))),
    ),
    h(
      "fieldset.choices",
      h("legend", "Scopes"),
      scopeBoxes.map(([scope, routes, box]) =>
        h("div.choice", box, h("label", { for: box.id, title: routes.join("\n") }, scope)),
      ),
    ),
    h("label", { for: "token-days" }, "Expires after (days, 1–366)"),
    days,
    h(
      "div.actions",
      h("button.primary", { type: "button", id: "issue-token", onclick: issue }, "Issue token"),
    ),
  );
}

/** The secret, once: the node stores only its hash, so a lost secret means a new token. */
function showSecret(box, token) {
  mount(
    box,
    h(
      "div.panel",
      h("h2", `Secret of ${token.name}`),
      h("p", "Copy it now: it is shown this once and the node keeps only its hash."),
      h("code.mono", { id: "token-secret" }, token.secret),
      h("p.muted", `Send it as Authorization: Bearer …; it expires ${isoWhen(token.expiresAt)}.`),
    ),
  );
}

/** Revoking asks once more in place (the machine using it is refused from then on), then revokes. */
function revoke(token, reload, button) {
  const cell = button.parentElement;
  const confirm = h(
    "button.danger",
    {
      type: "button",
      id: "confirm-revoke",
      onclick: () =>
        attempt(async () => {
          await api.del(`/api/v1/auth/tokens/${encodeURIComponent(token.id)}`);
          await reload();
          flash(`Revoked ${token.name}: requests with its secret are refused from now on.`);
        }),
    },
    `Yes, revoke ${token.name}`,
  );
  const keep = h("button", { type: "button", onclick: () => mount(cell, button) }, "Keep it");
  mount(cell, confirm, " ", keep);
  confirm.focus();
}
