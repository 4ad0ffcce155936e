import { createPowertoolsLogger, powertoolsLogger } from '../../functions/telemetry.js';
import { LOG_LEVELS, logLevel, type LogFields, type Logger, type LogLevel } from '../../lib/logger.js';

/*
 * What `npm start` prints for the engine and the handlers: one readable line per request and per event, not
 * the JSON a Lambda writes for CloudWatch Logs (set SHARDLOG_LOG_FORMAT=json to see exactly that, from the same
 * Powertools Logger the functions use):
 *
 *   12:48:59.402 POST /v1/topics/orders/records 200 52 ms
 *   12:48:59.416 GET /v1/topics/nope 404 TOPIC_NOT_FOUND 5 ms
 *   12:49:02.536 info  maintenance pass report={"tiered":{"segments":1,"records":3,"bytes":412},...}
 *
 * LOG_LEVEL (debug | info | warn | error, default info) filters; debug adds the maintenance passes that found
 * nothing to do. Metrics are not printed: the local stack's engine emits none (README "Operating shardlog").
 */

/** Where {@link localLogger} writes: stdout for debug and info, stderr for warnings and errors. */
export interface LocalLogOutput {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

export interface LocalLoggerOptions {
  readonly level?: LogLevel;
  /** `text` (default) or `json` (Powertools Logger, as in Lambda). */
  readonly format?: 'text' | 'json';
  readonly output?: LocalLogOutput;
  readonly now?: () => Date;
}

const STD_OUTPUT: LocalLogOutput = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** The local stack's logger, from `LOG_LEVEL` and `SHARDLOG_LOG_FORMAT` unless `options` say otherwise. */
export function localLogger(options: LocalLoggerOptions = {}, env: Readonly<Record<string, string | undefined>> = process.env): Logger {
  const format = options.format ?? (env.SHARDLOG_LOG_FORMAT === 'json' ? 'json' : 'text');
  if (format === 'json') return powertoolsLogger(createPowertoolsLogger(env));
  const threshold = LOG_LEVELS.indexOf(options.level ?? logLevel(env.LOG_LEVEL, 'info'));
  const output = options.output ?? STD_OUTPUT;
  const now = options.now ?? (() => new Date());
  const write = (level: LogLevel, message: string, fields: LogFields = {}) => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    const time = now().toISOString().slice(11, 23);
    const line = message === 'request' ? requestLine(fields) : `${level.padEnd(5)} ${message}${fieldText(fields)}`;
    (level === 'warn' || level === 'error' ? output.err : output.out)(`${time} ${line}`);
  };
  return {
    debug: (message, fields) => write('debug', message, fields),
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
  };
}

/** `POST /v1/topics/orders/records 200 52 ms`, with the error code of an error answer. */
function requestLine(fields: LogFields): string {
  const method = String(fields.routeKey ?? '').split(' ')[0];
  const code = fields.errorCode === undefined ? '' : ` ${String(fields.errorCode)}`;
  return `${method} ${String(fields.path)} ${String(fields.status)}${code} ${String(fields.durationMs)} ms`;
}

/** ` key=value …`; an error as its name and message, then its stack on the following lines. */
function fieldText(fields: LogFields): string {
  let text = '';
  let stack = '';
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (value instanceof Error) {
      text += ` ${key}=${JSON.stringify(`${value.name}: ${value.message}`)}`;
      stack += value.stack ? `\n${value.stack}` : '';
    } else {
      text += ` ${key}=${typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : safeJson(value)}`;
    }
  }
  return text + stack;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value); // a cycle or a BigInt must not turn logging into a crash
  }
}
