/**
 * The node's logger: structured fields, one line per event. Two writers: `level: message {fields}`
 * lines for people at a terminal, and JSON lines by pino for services (ICL_LOG_FORMAT=json) that a
 * log shipper reads.
 */
import pino from "pino";

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

/** Fields with bigints as decimal strings (pino's JSON cannot hold a bigint). */
function plainFields(fields: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(fields, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)));
}

/**
 * JSON lines by pino on `stream`, from `minimum` up: `{"level":30,"time":…,"pid":…,"msg":"…",…fields}`.
 * `name` tells the writer apart when several processes share a log (e.g. the node's carrier).
 */
export function jsonLogger(stream: NodeJS.WritableStream, minimum: LogLevel = "info", name?: string): Logger {
  const log = pino({ level: minimum, name, base: { pid: process.pid } }, stream);
  return {
    info: (message, fields) => log.info(fields ? plainFields(fields) : {}, message),
    warn: (message, fields) => log.warn(fields ? plainFields(fields) : {}, message),
    error: (message, fields) => log.error(fields ? plainFields(fields) : {}, message),
  };
}

/**
 * The logger the environment asks for on `stream`: ICL_LOG_FORMAT `json` (pino) or `text` (default),
 * at the level of ICL_LOG.
 */
export function loggerFromEnv(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv): Logger {
  const level = logLevelFromEnv(env);
  return env.ICL_LOG_FORMAT === "json" ? jsonLogger(stream, level) : streamLogger(stream, level);
}

/** The level named by ICL_LOG (info, warn, error), default warn. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv): LogLevel {
  const level = env.ICL_LOG;
  return LEVELS.find((l) => l === level) ?? "warn";
}
