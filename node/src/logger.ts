/** The node's logger: structured fields, one line per event. The gateway plugs in pino; the CLI a stderr writer. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

const LEVELS = ["info", "warn", "error"] as const;
export type LogLevel = (typeof LEVELS)[number];

/**
 * Writes `level: message {fields}` lines to a stream (the CLI's stderr), from `minimum` up; bigints
 * print as decimal strings.
 */
export function streamLogger(stream: NodeJS.WritableStream, minimum: LogLevel = "warn"): Logger {
  const write = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (LEVELS.indexOf(level) < LEVELS.indexOf(minimum)) return;
    const extra = fields
      ? " " + JSON.stringify(fields, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))
      : "";
    stream.write(`${level}: ${message}${extra}\n`);
  };
  return { info: write("info"), warn: write("warn"), error: write("error") };
}

/** The level named by ICL_LOG (info, warn, error), default warn. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv): LogLevel {
  const level = env.ICL_LOG;
  return LEVELS.find((l) => l === level) ?? "warn";
}
