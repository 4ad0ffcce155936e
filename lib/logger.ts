/**
 * A minimal structured logger: one JSON object per line on stdout/stderr, which CloudWatch Logs indexes and
 * the local server prints as is. `LOG_LEVEL` (debug | info | warn | error, default info) filters.
 */
type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(
  base: Record<string, unknown> = {},
  level: string = process.env.LOG_LEVEL ?? 'info',
): Logger {
  const threshold = ORDER[(level as Level) in ORDER ? (level as Level) : 'info'];
  const emit = (lvl: Level, message: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < threshold) return;
    let line: string;
    try {
      line = JSON.stringify({ level: lvl, time: new Date().toISOString(), message, ...base, ...fields }, errorReplacer);
    } catch (error) {
      // A field that cannot be serialised (a cycle, a BigInt) must not turn logging into a crash.
      line = JSON.stringify({ level: lvl, time: new Date().toISOString(), message, ...base, unserialisableFields: String(error) });
    }
    (lvl === 'error' || lvl === 'warn' ? process.stderr : process.stdout).write(line + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack, cause: value.cause };
  }
  return value;
}
