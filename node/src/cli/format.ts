/** Renders rows as an aligned text table; numeric-looking cells are right-aligned. */
export function table(
  headers: readonly string[],
  rows: readonly (readonly (string | number | bigint)[])[],
): string {
  const cells = rows.map((row) => row.map((cell) => String(cell)));
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...cells.map((row) => (row[i] ?? "").length)),
  );
  const numeric = headers.map(
    (_, i) => cells.length > 0 && cells.every((row) => /^-?[\d.,]+%?$/.test(row[i] ?? "")),
  );
  const render = (row: readonly string[]) =>
    row
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return (
    [render(headers), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(render)].join("\n") + "\n"
  );
}

/** JSON with bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2) + "\n";
}

/**
 * A progress line on stderr, redrawn in place, only when stderr is a terminal (never in pipes or CI logs).
 */
export function progressReporter(stderr: NodeJS.WritableStream & { isTTY?: boolean }, label: string) {
  let last = 0;
  const started = Date.now();
  const tty = stderr.isTTY === true;
  // Off a terminal, progress only on request (ICL_PROGRESS=1), five lines a second: for CI logs and scripts.
  const lines = process.env.ICL_PROGRESS === "1";
  return {
    update(done: number, total: number, records: number) {
      if (!tty && !lines) return;
      const now = Date.now();
      if (now - last < (tty ? 100 : 200) && done < total) return;
      last = now;
      const fraction = total > 0 ? Math.min(1, done / total) : 1;
      const width = 30;
      const bar = "#".repeat(Math.round(fraction * width)).padEnd(width, ".");
      const seconds = (now - started) / 1000;
      const rate = seconds > 0 ? Math.round(records / seconds) : 0;
      stderr.write(
        `${tty ? "\r" : ""}${label} [${bar}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${records} records  ${rate}/s${tty ? "" : "\n"}`,
      );
    },
    done() {
      if (tty) stderr.write("\n");
    },
  };
}
