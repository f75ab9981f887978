// Logs: the one Logger every stage reports through (passed in, never a module singleton), and JSON
// structured logs, one object per line on stderr, with a level, a message and fields.

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof LEVELS;

function serialisable(fields: LogFields | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields ?? {})) out[k] = v instanceof Error ? v.message : v;
  return out;
}

export function jsonLogger(
  write: (line: string) => void,
  level: LogLevel = 'info',
  base: LogFields = {},
): Logger {
  const at = (name: LogLevel) => (msg: string, fields?: LogFields) => {
    if (LEVELS[name] < LEVELS[level]) return;
    write(
      `${JSON.stringify({ ts: new Date().toISOString(), level: name, msg, ...base, ...serialisable(fields) })}\n`,
    );
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
