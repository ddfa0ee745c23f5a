/**
 * Building the page without HTML strings: every text from the API goes in through textContent, so
 * nothing a partner, a CDR or a file name carries is ever parsed as markup.
 */

/**
 * h("td.num", {title: "x"}, "12") → <td class="num" title="x">12</td>. Children: strings, numbers,
 * nodes, arrays of them, null/false (skipped). Attributes starting with "on" are event handlers.
 */
export function h(tag, attrs, ...children) {
  const [name, ...classes] = tag.split(".");
  const node = document.createElement(name);
  if (classes.length > 0) node.className = classes.join(" ");
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === "class") node.className += (node.className ? " " : "") + value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the content of `node`. */
export function mount(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/**
 * A table: `columns` as [header, cell(row), className?]. It sits in a box that scrolls sideways when
 * the table is wider than its panel, so the page itself never does; below 640 px each row reads as a
 * card of "header: value" lines (console.css).
 */
export function table(columns, rows, options = {}) {
  const drawn = tableOnly(columns, rows, options);
  const button = h(
    "button.export-csv",
    { type: "button", onclick: () => exportCsv(drawn, options.csvName) },
    "Export CSV",
  );
  return h("div.table-box", h("div.table-tools", button), h("div.scroll", drawn));
}

/** Money as the console writes it (format.js `money`): "-1,234.560000 ICUSD". */
const MONEY = /(-?\d[\d,]*(?:\.\d+)?) ([A-Z][A-Z0-9]{1,11})\b/g;

/**
 * The rows of a drawn table as CSV (RFC 4180: fields with a comma, quote or line break quoted, quotes
 * doubled, CRLF between records): the values as shown, except that amounts are plain decimals
 * ("1234.560000") and their currency goes in a last "Currency" column. Lines within a cell are joined
 * with "; ".
 */
export function tableCsv(drawn) {
  const header = [...drawn.querySelectorAll("thead th")].map(shownText);
  const rows = [];
  const currencies = [];
  let any = false;
  for (const tr of drawn.querySelectorAll("tbody tr")) {
    // The "Nothing yet." row is not data.
    if (tr.querySelector("td[colspan]") !== null) continue;
    const symbols = new Set();
    const fields = [...tr.children].map((td) =>
      td.innerText
        .trim()
        .split(/\s*\n\s*/)
        .join("; ")
        .replace(MONEY, (_, amount, symbol) => {
          symbols.add(symbol);
          return amount.replaceAll(",", "");
        }),
    );
    if (symbols.size > 0) any = true;
    rows.push(fields);
    currencies.push([...symbols].join("; "));
  }
  const records = any
    ? [[...header, "Currency"], ...rows.map((fields, i) => [...fields, currencies[i]])]
    : [header, ...rows];
  return records.map((fields) => fields.map(csvField).join(",")).join("\r\n") + "\r\n";
}

/** A header's words without what only marks it for the eye (the sort arrow). */
function shownText(th) {
  const copy = th.cloneNode(true);
  for (const mark of copy.querySelectorAll('[aria-hidden="true"]')) mark.remove();
  return copy.textContent.trim();
}

function csvField(value) {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Downloads a drawn table as CSV, named after the table and what the page shows
 * ("timeline-A-B-2030-01.csv"; "periods.csv").
 */
function exportCsv(drawn, name) {
  const panelTitle = drawn.closest(".panel")?.querySelector("h2, h3")?.textContent;
  const title = name ?? drawn.id.replace(/-table$/, "") ?? "";
  const what = slug(title || panelTitle || document.querySelector("#app h1")?.textContent || "table");
  const where = location.hash.replace(/^#\/?/, "").split("?")[0].split("/").slice(1).map(decodeURIComponent);
  const file = [what, ...where.map(slug)].filter((part) => part !== "").join("-");
  download(`${file}.csv`, tableCsv(drawn), "text/csv;charset=utf-8");
}

function slug(text) {
  return String(text)
    .trim()
    .replace(/[^A-Za-z0-9.]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

function tableOnly(columns, rows, options) {
  return h(
    "table",
    options.attrs ?? {},
    h(
      "thead",
      h(
        "tr",
        columns.map(([title, , cls], index) => header(title, cls, index, options.sort)),
      ),
    ),
    h(
      "tbody",
      rows.length === 0
        ? h("tr", h("td.muted", { colspan: columns.length }, options.empty ?? "Nothing yet."))
        : rows.map((row) =>
            h(
              "tr",
              { class: options.rowClass?.(row) || null, dataset: options.rowData?.(row) },
              // Each cell carries its column's title: narrow screens show a row as a card of labelled lines.
              columns.map(([title, cell, cls]) =>
                h(
                  cls ? `td.${cls}` : "td",
                  { dataset: title ? { label: title } : undefined },
                  h("div.cell", cell(row)),
                ),
              ),
            ),
          ),
    ),
  );
}

/**
 * A column header; with `sort` ({column, direction: "ascending"|"descending", onSort(index)}) it is a
 * button (click, Enter or Space) and the sorted column carries aria-sort.
 */
function header(title, cls, index, sort) {
  const tag = cls ? `th.${cls}` : "th";
  if (sort === undefined) return h(tag, title);
  const sorted = sort.column === index;
  return h(
    tag,
    { "aria-sort": sorted ? sort.direction : "none" },
    h(
      "button.sort",
      { type: "button", onclick: () => sort.onSort(index) },
      title,
      h("span", { "aria-hidden": "true" }, sorted ? (sort.direction === "ascending" ? " ▲" : " ▼") : ""),
    ),
  );
}

/** A small label; `kind` picks its colours (ok, bad, warn or a ledger state). */
export function badge(text, kind = text, title = undefined) {
  return h("span.badge", title === undefined ? { class: kind } : { class: kind, title }, text);
}

/** Offers `content` (string or bytes) as a file download. */
export function download(name, content, type = "application/octet-stream") {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const link = h("a", { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Shows a message where it stays in view (fixed to the bottom of the window, however far the page is
 * scrolled); errors stay until dismissed or the next navigation, others go after a while.
 */
export function flash(message, kind = "info") {
  const box = document.getElementById("flash");
  const item = h(
    `div.${kind}`,
    h("span", message),
    h(
      "button.dismiss",
      { type: "button", "aria-label": "Dismiss message", onclick: () => item.remove() },
      "×",
    ),
  );
  box.append(item);
  if (kind !== "error") setTimeout(() => item.remove(), 8_000);
}

/** Brings a panel that just appeared (what will be signed, a form) into view and puts focus on its heading. */
export function reveal(panel) {
  const target = panel.querySelector("h2, h3") ?? panel;
  target.setAttribute("tabindex", "-1");
  panel.scrollIntoView({ block: "nearest" });
  target.focus({ preventScroll: true });
}

export function clearFlash() {
  document.getElementById("flash").replaceChildren();
}
