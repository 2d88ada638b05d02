import { pino, type Logger, type LoggerOptions } from "pino";

export type { Logger } from "pino";

/** Field paths that may carry secrets; pino replaces their values before anything is written. */
const REDACT = [
  "password",
  "*.password",
  "token",
  "*.token",
  "secret",
  "*.secret",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "headers.Authorization",
  "*.headers.authorization",
  "databaseUrl",
  "*.databaseUrl",
  "DATABASE_URL",
  "*.DATABASE_URL",
];

export interface LogOptions {
  service: string;
  level?: string;
  /** Where to write; defaults to stdout. Tests pass a stream to read what was logged. */
  destination?: pino.DestinationStream;
}

export function createLogger({ service, level = "info", destination }: LogOptions): Logger {
  const options: LoggerOptions = {
    level,
    base: { service },
    redact: { paths: REDACT, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Removes the password from a connection URL, for logging where a service connects. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "redacted";
    return u.toString();
  } catch {
    return "[unparseable url]";
  }
}
