/**
 * How lib/ logs: through this interface only, never to the console and never through a Lambda library. The
 * engine gets its logger from whoever builds it (`createShardlog({ logger })`): the Lambda entries pass
 * Powertools Logger (functions/telemetry.ts: structured JSON with the request id, cold start and sampling of
 * debug lines), the local stack a readable one-line printer (infra/local/local-log.ts), tests nothing (silent).
 *
 * Fields are plain values; an `error` field may hold an Error, which the implementation serialises with its
 * name, message, stack and cause.
 */
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** The levels of a {@link Logger}, least severe first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A logger that writes nothing: the engine's default, so a library user or a test prints nothing unasked. */
export const SILENT_LOGGER: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * `log` with `fields` added to every line (a line's own fields win): one request's logger, without creating a
 * logger per request and without state shared between concurrent requests.
 * @example const requestLog = withFields(log, { requestId }); requestLog.info('request', { status: 200 });
 */
export function withFields(log: Logger, fields: LogFields): Logger {
  const merged = (extra?: LogFields): LogFields => (extra === undefined ? fields : { ...fields, ...extra });
  return {
    debug: (message, extra) => log.debug(message, merged(extra)),
    info: (message, extra) => log.info(message, merged(extra)),
    warn: (message, extra) => log.warn(message, merged(extra)),
    error: (message, extra) => log.error(message, merged(extra)),
  };
}

/**
 * The level named by `value` (`LOG_LEVEL`, any case); `fallback` when it names none.
 * @example logLevel('WARN', 'info') // 'warn'
 */
export function logLevel(value: string | undefined, fallback: LogLevel): LogLevel {
  const lower = value?.toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(lower ?? '') ? (lower as LogLevel) : fallback;
}
