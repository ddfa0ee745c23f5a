/**
 * Prometheus metrics in the text exposition format (version 0.0.4), written by hand: the gateway
 * needs two families of its own (request counter, latency histogram) and a few gauges read from the
 * node at scrape time, which does not justify a dependency.
 */

/** Upper bounds of the latency histogram, seconds. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/** One metric family: `# HELP`, `# TYPE` and its samples. */
export interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  samples: Sample[];
}

interface Histogram {
  labels: Record<string, string>;
  buckets: number[];
  sum: number;
  count: number;
}

/** `\`, `"` and newlines escaped as the format requires. */
function labelValue(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([key, value]) => `${key}="${labelValue(value)}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

function numberText(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return Number.isNaN(value) ? "NaN" : String(value);
}

/** The gateway's HTTP metrics: requests by method, route and status, and their latency. */
export class Metrics {
  private readonly counts = new Map<string, Sample>();
  private readonly latency = new Map<string, Histogram>();

  /**
   * Records one answered request. `route` must be the route's pattern (`/api/v1/periods/:agreement/:period`)
   * or a fixed word, never the raw URL: label values are kept forever, so they must stay few.
   */
  observe(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    const key = `${method} ${route} ${status}`;
    const count = this.counts.get(key) ?? { labels, value: 0 };
    count.value += 1;
    this.counts.set(key, count);
    let histogram = this.latency.get(key);
    if (histogram === undefined) {
      histogram = { labels, buckets: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.latency.set(key, histogram);
    }
    LATENCY_BUCKETS.forEach((bound, i) => {
      if (seconds <= bound) histogram.buckets[i]! += 1;
    });
    histogram.sum += seconds;
    histogram.count += 1;
  }

  /** The HTTP families plus `extra` (gauges read at scrape time), as exposition text. */
  render(extra: readonly Family[] = []): string {
    const out: string[] = [];
    const families: Family[] = [
      {
        name: "icl_http_requests_total",
        help: "HTTP requests answered, by method, route pattern and status.",
        type: "counter",
        samples: [...this.counts.values()],
      },
    ];
    for (const family of [...families, ...extra]) {
      out.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
      for (const sample of family.samples) {
        out.push(`${family.name}${labelText(sample.labels)} ${numberText(sample.value)}`);
      }
    }
    const name = "icl_http_request_duration_seconds";
    out.push(
      `# HELP ${name} Time to answer HTTP requests, by method, route pattern and status.`,
      `# TYPE ${name} histogram`,
    );
    for (const histogram of this.latency.values()) {
      LATENCY_BUCKETS.forEach((bound, i) => {
        const labels = { ...histogram.labels, le: String(bound) };
        out.push(`${name}_bucket${labelText(labels)} ${histogram.buckets[i]}`);
      });
      out.push(`${name}_bucket${labelText({ ...histogram.labels, le: "+Inf" })} ${histogram.count}`);
      out.push(`${name}_sum${labelText(histogram.labels)} ${histogram.sum}`);
      out.push(`${name}_count${labelText(histogram.labels)} ${histogram.count}`);
    }
    return out.join("\n") + "\n";
  }
}

/**
 * Express middleware counting every answered request into `metrics`. The route label is the table
 * route's pattern (set by the API router), the peer protocol's prefix, or `unmatched`: never the URL.
 */
export function countRequests(
  metrics: Metrics,
  fixed: { prefix: string; label: string }[],
): (req: { method: string; path: string }, res: ResponseLike, next: () => void) => void {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once("finish", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route =
        (res.locals.metricsRoute as string | undefined) ??
        fixed.find((f) => req.path === f.prefix || req.path.startsWith(f.prefix))?.label ??
        "unmatched";
      metrics.observe(req.method, route, res.statusCode, seconds);
    });
    next();
  };
}

interface ResponseLike {
  statusCode: number;
  locals: Record<string, unknown>;
  once(event: "finish", listener: () => void): unknown;
}
