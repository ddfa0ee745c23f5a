/**
 * Ingest: upload a CDR file (operators, officers, admins), follow its progress, and read every file's counts
 * (rated + unbilled + rejected = records) and its rejected lines with the reason.
 */
import { api } from "../api.js";
import { badge, flash, h, mount, table } from "../dom.js";
import { count, isoWhen, reasonWords } from "../format.js";
import { attempt, hasRole, render } from "../main.js";

export async function ingestPage(app) {
  // The formats come from the node's registry (GET /api/v1/formats), never a list of our own.
  const [{ files }, stats, { formats }] = await Promise.all([
    api.get("/api/v1/files"),
    api.get("/api/v1/cdrs/stats"),
    api.get("/api/v1/formats"),
  ]);
  const rejects = h("div", { id: "rejects" });
  mount(
    app,
    h("h1", "Ingest"),
    h(
      "div.tiles",
      [
        ["files", stats.files],
        ["records read", stats.records],
        ["rated", stats.rated],
        ["unbilled", stats.unbilled],
        ["rejected", stats.rejected],
      ].map(([label, n]) => h("div.tile", h("div.n", count(n)), h("div.muted", label))),
    ),
    hasRole("operator", "officer", "admin") ? uploadPanel(formats) : null,
    h(
      "div.panel",
      h("h2", "Files"),
      table(
        [
          ["#", (f) => String(f.fileId), "num"],
          ["File", (f) => f.fileName],
          ["Format", (f) => f.format],
          [
            "Status",
            (f) =>
              badge(
                f.status,
                f.status === "done" || f.status === "live"
                  ? "ok"
                  : f.status === "incomplete"
                    ? "bad"
                    : "warn",
                f.incompleteReason ?? undefined,
              ),
          ],
          ["Records", (f) => count(f.records), "num"],
          ["Rated", (f) => count(f.rated), "num"],
          ["Unbilled", (f) => count(f.unbilled), "num"],
          [
            "Rejected",
            (f) =>
              f.rejected === "0"
                ? "0"
                : h(
                    "a",
                    { href: "#", onclick: (e) => (e.preventDefault(), showRejects(rejects, f)) },
                    count(f.rejected),
                  ),
            "num",
          ],
          ["Started", (f) => isoWhen(f.startedAt)],
        ],
        files,
        { attrs: { id: "files-table" }, empty: "No file ingested yet." },
      ),
    ),
    rejects,
  );
}

async function showRejects(box, file) {
  const { rejects } = await api.get(`/api/v1/files/${file.fileId}/rejects`, { limit: 200 });
  mount(
    box,
    h(
      "div.panel",
      h("h2", `Rejected lines of ${file.fileName}`),
      table(
        [
          ["Line", (r) => count(r.line), "num"],
          [
            "Reason",
            (r) =>
              badge(
                r.rule
                  ? `${reasonWords(r.reason.toLowerCase())}: ${r.rule}`
                  : reasonWords(r.reason.toLowerCase()),
                "bad",
              ),
          ],
          ["Field", (r) => r.field ?? ""],
          ["Why", (r) => r.message],
          ["Raw", (r) => h("code", r.raw)],
        ],
        rejects,
      ),
    ),
  );
}

function uploadPanel(formats) {
  const format = h(
    "select",
    { id: "ingest-format" },
    formats.map((f) => h("option", { value: f.id, title: f.description }, f.label)),
  );
  const input = h("input", { type: "file", id: "ingest-file" });
  const bar = h("div");
  const status = h("p.muted");
  const upload = () =>
    attempt(async () => {
      const file = input.files?.[0];
      if (!file) throw new Error("choose a file first");
      const name = file.name.replace(/[^A-Za-z0-9_.-]/g, "_").replace(/^[._-]+/, "") || "upload.csv";
      let job = await api.upload("/api/v1/ingest", file, { format: format.value, name }, "text/csv");
      const progress = h("div.progress", bar);
      mount(status, progress);
      while (job.status === "queued" || job.status === "running") {
        await new Promise((resolve) => setTimeout(resolve, 500));
        job = await api.get(`/api/v1/ingest/${job.jobId}`);
        bar.style.width = `${Math.round((100 * job.progress.bytesRead) / Math.max(1, job.progress.byteSize))}%`;
      }
      if (job.error) throw new Error(job.error.message);
      const f = job.file;
      // Redraw first (a navigation clears messages), then say how the file went.
      await render();
      flash(
        job.alreadyIngested
          ? `${name} was already ingested.`
          : `${name}: ${count(f.records)} read = ${count(f.rated)} rated + ${count(f.unbilled)} unbilled + ${count(f.rejected)} rejected.`,
      );
    });
  return h(
    "div.panel",
    h("h2", "Upload a CDR file"),
    h("label", { for: "ingest-format" }, "Switch format"),
    format,
    h("label", { for: "ingest-file" }, "File"),
    input,
    h("div.actions", h("button.primary", { onclick: upload }, "Upload and ingest")),
    status,
  );
}
