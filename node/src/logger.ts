/** The node's logger: structured fields, one line per event. The gateway plugs in pino; the CLI a stderr writer. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {} };

/** Writes `level message {fields}` lines to a stream (the CLI's stderr). */
export function streamLogger(stream: NodeJS.WritableStream): Logger {
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    stream.write(`${level}: ${message}${fields ? " " + JSON.stringify(fields) : ""}\n`);
  };
  return { info: write("info"), warn: write("warning"), error: write("error") };
}
