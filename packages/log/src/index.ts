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

/** Values of these keys are never written, at any depth: query parameters and payloads (playlists, bodies). */
const OMIT = new Set([
  "params",
  "parameters",
  "values",
  "playlistGzipBase64",
  "playlistGz",
  "playlist_gz",
  "body",
  "rawBody",
]);
/** Bounds of one log line: a string, a list, nesting, and the line's fields as a whole. */
export const LOG_LIMITS = { string: 1_000, items: 20, depth: 5, line: 16_384, frames: 12 };
const ERROR_FIELDS = [
  "code",
  "errno",
  "syscall",
  "address",
  "port",
  "status",
  "statusCode",
  "severity",
  "detail",
  "hint",
  "schema",
  "table",
  "column",
  "constraint",
  "routine",
  "type",
];

const cap = (text: string, max = LOG_LIMITS.string): string =>
  text.length > max ? `${text.slice(0, max)}… [${text.length - max} more chars]` : text;

/**
 * An error's message without what follows "params:" (drizzle puts a failed query's parameters there,
 * bound values included: a playlist's bytes, say).
 */
export function safeMessage(message: string): string {
  return cap(message.replace(/\n?\s*params:[\s\S]*$/, "").trim());
}

/** An error as a log field: name, bounded message and stack frames, known fields of pg and Node, its cause; never its parameters. */
export function safeError(err: Error, depth = 0): Record<string, unknown> {
  const e = err as Error & Record<string, unknown>;
  const out: Record<string, unknown> = {
    type: e.name || e.constructor?.name || "Error",
    message: safeMessage(String(e.message ?? "")),
  };
  for (const k of ERROR_FIELDS) {
    const v = e[k];
    if (v !== undefined && v !== null && typeof v !== "object" && typeof v !== "function")
      out[k] = typeof v === "string" ? cap(v, 300) : v;
  }
  if (typeof e.stack === "string") {
    const frames = e.stack
      .split("\n")
      .filter((l) => /^\s+at /.test(l))
      .slice(0, LOG_LIMITS.frames);
    out.stack = [`${out.type as string}: ${out.message as string}`, ...frames].join("\n");
  }
  if (e.cause !== undefined && depth < 3)
    out.cause = e.cause instanceof Error ? safeError(e.cause, depth + 1) : bounded(e.cause, depth + 1);
  if (Array.isArray(e.errors) && depth < 3)
    out.errors = e.errors
      .slice(0, 5)
      .map((x) => (x instanceof Error ? safeError(x, depth + 1) : bounded(x, depth + 1)));
  return out;
}

/** A value made safe and small to log: errors sanitized, payload keys omitted, bytes counted not written, strings and lists cut. */
export function bounded(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === "string") return cap(value);
  if (typeof value !== "object") return value;
  if (value instanceof Error) return safeError(value);
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${(value as ArrayBufferView).byteLength} bytes]`;
  if (value instanceof Date) return value;
  if (depth >= LOG_LIMITS.depth) return "[nested too deep]";
  if (Array.isArray(value)) {
    const items = value.slice(0, LOG_LIMITS.items).map((v) => bounded(v, depth + 1));
    if (value.length > LOG_LIMITS.items) items.push(`… ${value.length - LOG_LIMITS.items} more`);
    return items;
  }
  if (value instanceof Map || value instanceof Set) return `[${value.constructor.name} of ${value.size}]`;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = OMIT.has(k) ? "[omitted]" : bounded(v, depth + 1);
  return out;
}

/** The fields of one log line, bounded; a line still over the limit keeps only its field names. */
function logFields(obj: Record<string, unknown>): Record<string, unknown> {
  const out = bounded(obj) as Record<string, unknown>;
  let size = 0;
  try {
    size = JSON.stringify(out).length;
  } catch {
    return { logFields: Object.keys(obj), truncated: "fields could not be serialized" };
  }
  return size > LOG_LIMITS.line
    ? { logFields: Object.keys(obj), truncated: `${size} chars of fields over the ${LOG_LIMITS.line} a line may carry` }
    : out;
}

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
    // Every line's fields go through logFields: no query parameters, no payload bytes, bounded size.
    formatters: { level: (label) => ({ level: label }), log: logFields },
    // logFields has made errors plain objects already; pino's own serializer would rebuild them.
    serializers: { err: (v: unknown) => (v instanceof Error ? safeError(v) : v) },
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
