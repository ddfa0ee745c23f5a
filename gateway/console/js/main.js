/**
 * The console's shell: who is signed in, the navigation their roles allow, and the hash router
 * (#/period/ACME-GLOBEX/2030-01) that draws one page at a time into <main>.
 */
import { ApiError, api, setCsrf } from "./api.js";
import { clearFlash, flash, h, mount } from "./dom.js";
import { forget, signer } from "./wallet.js";
import { signInPage } from "./pages/sign-in.js";
import { dashboardPage } from "./pages/dashboard.js";
import { periodsPage } from "./pages/periods.js";
import { periodPage } from "./pages/period.js";
import { disputesPage } from "./pages/disputes.js";
import { settlementPage } from "./pages/settlement.js";
import { ingestPage } from "./pages/ingest.js";
import { agreementsPage } from "./pages/agreements.js";
import { auditPage } from "./pages/audit.js";
import { ALERT_ROLES, alertsPage } from "./pages/alerts.js";
import { TOKEN_ROLES, tokensPage } from "./pages/tokens.js";

/** Sections, and the roles that see each (the API checks again; this only hides what would be refused). */
const SECTIONS = [
  { path: "", title: "Dashboard", roles: null, page: dashboardPage },
  {
    path: "periods",
    title: "Periods",
    roles: ["officer", "regulator", "arbiter", "admin"],
    page: periodsPage,
  },
  {
    path: "disputes",
    title: "Disputes",
    roles: ["officer", "regulator", "arbiter", "admin"],
    page: disputesPage,
  },
  { path: "settlement", title: "Settlement", roles: ["officer", "admin"], page: settlementPage },
  { path: "ingest", title: "Ingest", roles: ["operator", "officer", "admin"], page: ingestPage },
  {
    path: "agreements",
    title: "Agreements & tariffs",
    roles: ["operator", "officer", "regulator", "admin"],
    page: agreementsPage,
  },
  { path: "audit", title: "Audit", roles: ["regulator", "officer", "admin"], page: auditPage },
  { path: "alerts", title: "Alerts", roles: ALERT_ROLES, page: alertsPage },
  { path: "tokens", title: "Tokens", roles: TOKEN_ROLES, page: tokensPage },
];

/** The signed-in session: {address, roles, csrfToken, …} or null. */
export const session = { current: null };

export function hasRole(...roles) {
  return session.current !== null && session.current.roles.some((role) => roles.includes(role));
}

async function loadSession() {
  try {
    session.current = await api.get("/api/v1/auth/session");
    setCsrf(session.current.csrfToken);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
    session.current = null;
    setCsrf(null);
  }
}

export async function signedIn(principal) {
  session.current = principal;
  setCsrf(principal.csrfToken);
  location.hash = "#/";
  await render();
}

async function signOut() {
  try {
    await api.post("/api/v1/auth/sign-out", {});
  } finally {
    forget();
    session.current = null;
    setCsrf(null);
    location.hash = "#/sign-in";
  }
}

function drawHeader(route) {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  if (session.current === null) {
    mount(nav);
    mount(who, h("a", { href: "#/sign-in" }, "Sign in"));
    return;
  }
  mount(
    nav,
    SECTIONS.filter((s) => s.roles === null || hasRole(...s.roles)).map((s) =>
      h("a", { href: `#/${s.path}`, class: route === s.path ? "active" : null }, s.title),
    ),
  );
  const { address, roles } = session.current;
  mount(
    who,
    h("span", { title: address }, `${address.slice(0, 6)}…${address.slice(-4)}`),
    roles.map((role) => h("span.badge", role)),
    signer() ? h("span.badge.ok", { title: "a key to sign with is loaded in this tab" }, "can sign") : null,
    h("button", { onclick: signOut }, "Sign out"),
  );
}

/**
 * Puts the keyboard and screen reader on the page's heading (else on <main>): after navigation, and
 * from the skip link. The heading takes focus without joining the tab order.
 */
export function focusPage() {
  const app = document.getElementById("app");
  const heading = app.querySelector("h1") ?? app;
  if (heading !== app) heading.setAttribute("tabindex", "-1");
  heading.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

/** Role names in words: "operators and officers". */
function rolesWords(roles) {
  const others = roles.filter((role) => role !== "admin");
  const names = (others.length > 0 ? others : roles).map((role) => `${role}s`);
  return names.length <= 1 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
}

/** A section the signed-in roles may not open says whose it is and who the person is signed in as. */
function forbidden(page, section) {
  const you = session.current.roles.join(" and ");
  mount(
    page,
    h("h1", { id: "page-refused" }, `${section.title} is not open to you`),
    h("p", `${section.title} is for ${rolesWords(section.roles)}; you are signed in as ${you}.`),
    h("p", h("a", { href: "#/" }, "Back to the dashboard")),
  );
}

function notFound(page, route) {
  mount(
    page,
    h("h1", { id: "page-refused" }, "No such page"),
    h("p", `The console has no page called “${route}”.`),
    h("p", h("a", { href: "#/" }, "Back to the dashboard")),
  );
}

/** Counts navigations: a page whose data arrives after the person moved on is not shown. */
let generation = 0;

export async function render() {
  clearFlash();
  const app = document.getElementById("app");
  // "#/periods?state=Mismatched": what follows "?" is the page's own (a filter), not part of the route.
  const parts = location.hash.replace(/^#\/?/, "").split("?")[0].split("/").map(decodeURIComponent);
  const route = parts[0] ?? "";
  if (session.current === null && route !== "sign-in") {
    location.hash = "#/sign-in";
    return;
  }
  const current = ++generation;
  drawHeader(route);
  // Each navigation draws into its own container: a slower earlier page (the dashboard still loading
  // when the person opens Audit) then fills a container no longer on the page, never the new one.
  const loading = h("p.muted", "Loading…");
  const page = h("div.page");
  mount(app, loading, page);
  try {
    if (route === "sign-in") await signInPage(page);
    else if (route === "period") {
      // A period is part of Periods: a role that cannot open the list cannot open one of its pages.
      const periods = SECTIONS.find((s) => s.path === "periods");
      if (!hasRole(...periods.roles)) forbidden(page, periods);
      else await periodPage(page, parts[1], parts[2], parts.slice(3));
    } else {
      const section = SECTIONS.find((s) => s.path === route);
      if (section === undefined) notFound(page, route);
      else if (section.roles !== null && !hasRole(...section.roles)) forbidden(page, section);
      else await section.page(page);
    }
  } catch (error) {
    if (current !== generation) return;
    if (error instanceof ApiError && error.status === 401) {
      session.current = null;
      location.hash = "#/sign-in";
      return;
    }
    mount(page, h("h1", "Something went wrong"), h("p", error.message));
  }
  if (current !== generation) return;
  loading.remove();
  // A refused address takes focus even on the first draw: its heading is what the person needs to hear.
  if (navigated || page.querySelector("#page-refused") !== null) focusPage();
  navigated = true;
}

/** The first draw after loading leaves focus where the browser puts it; every navigation after moves it. */
let navigated = false;

/** Runs `action`, showing its error in the flash area; returns its result or undefined. */
export async function attempt(action) {
  try {
    return await action();
  } catch (error) {
    flash(
      error instanceof ApiError && error.field ? `${error.message} (${error.field})` : error.message,
      "error",
    );
    return undefined;
  }
}

window.addEventListener("hashchange", render);
window.addEventListener("DOMContentLoaded", async () => {
  // The skip link must not change the hash (that is the router's): it moves focus to the page instead.
  document.getElementById("skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    focusPage();
  });
  await loadSession();
  await render();
});
