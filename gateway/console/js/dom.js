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

/** A table: `columns` as [header, cell(row), className?]. */
export function table(columns, rows, options = {}) {
  return h(
    "table",
    options.attrs ?? {},
    h(
      "thead",
      h(
        "tr",
        columns.map(([title, , cls]) => h(cls ? `th.${cls}` : "th", title)),
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
              columns.map(([, cell, cls]) => h(cls ? `td.${cls}` : "td", cell(row))),
            ),
          ),
    ),
  );
}

/** Base units (a decimal string or bigint) in a token's decimals: 12345678, 6 → "12.345678". */
export function money(units, decimals = 6) {
  if (units === null || units === undefined) return "—";
  let value = BigInt(units);
  const negative = value < 0n;
  if (negative) value = -value;
  const scale = 10n ** BigInt(decimals);
  const whole = (value / scale).toLocaleString("en-US");
  const fraction = decimals > 0 ? "." + (value % scale).toString().padStart(decimals, "0") : "";
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

/** "12.5" in `decimals` → base units as a decimal string. @throws Error for anything but a plain decimal. */
export function parseMoney(text, decimals = 6) {
  const match = /^\s*(\d+)(?:\.(\d+))?\s*$/.exec(text);
  if (!match || (match[2] ?? "").length > decimals) {
    throw new Error(`'${text}' is not an amount (digits, at most ${decimals} decimals)`);
  }
  return (
    BigInt(match[1]) * 10n ** BigInt(decimals) +
    BigInt((match[2] ?? "").padEnd(decimals, "0") || "0")
  ).toString();
}

/** Seconds since 1970 (string or number) → "2030-02-14 10:00 UTC". */
export function when(seconds) {
  if (seconds === null || seconds === undefined || String(seconds) === "0") return "—";
  return new Date(Number(seconds) * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

/** 202601 → "2026-01". */
export function month(period) {
  const text = String(period);
  return `${text.slice(0, 4)}-${text.slice(4)}`;
}

/** "in 3 d 4 h" / "2 h ago" between two times in seconds. */
export function relative(target, now) {
  const delta = Number(target) - Number(now);
  const abs = Math.abs(delta);
  const text =
    abs >= 86_400
      ? `${Math.floor(abs / 86_400)} d ${Math.floor((abs % 86_400) / 3_600)} h`
      : abs >= 3_600
        ? `${Math.floor(abs / 3_600)} h ${Math.floor((abs % 3_600) / 60)} min`
        : `${Math.floor(abs / 60)} min`;
  return delta >= 0 ? `in ${text}` : `${text} ago`;
}

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

/** Shows a message above the page; errors stay until the next navigation. */
export function flash(message, kind = "info") {
  const box = document.getElementById("flash");
  const item = h(`div.${kind}`, message);
  box.append(item);
  if (kind !== "error") setTimeout(() => item.remove(), 6_000);
}

export function clearFlash() {
  document.getElementById("flash").replaceChildren();
}
