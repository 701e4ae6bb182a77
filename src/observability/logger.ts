import winston from 'winston';

/** The logger every part receives; never a global. */
export type Logger = winston.Logger;

/** json: one JSON object per line, for machines (the default); text: one readable line, for a terminal. */
export type LogFormat = 'json' | 'text';

/** Fields every text line leaves out: they are the line's own parts. */
const OWN_FIELDS = new Set(['level', 'message', 'timestamp']);

/**
 * Log lines on `stream` (stdout): JSON by default, one object per event with run ids as fields;
 * or text, "2026-12-02T03:12:00.000Z warn  run r_… failed: … runId=r_… playbook=rollback".
 */
export function createLogger(level: string, stream: NodeJS.WritableStream = process.stdout, format: LogFormat = 'json'): Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(
      winston.format.timestamp(),
      winston.format.errors({ stack: false }),
      format === 'text' ? textFormat() : winston.format.json(),
    ),
    transports: [new winston.transports.Stream({ stream })],
  });
}

function textFormat(): winston.Logform.Format {
  return winston.format.printf((info) => {
    const fields = Object.entries(info)
      .filter(([k, v]) => !OWN_FIELDS.has(k) && v !== undefined && typeof k === 'string')
      .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`);
    return `${String(info['timestamp'])} ${String(info.level).padEnd(5)} ${String(info.message)}${fields.length > 0 ? `  ${fields.join(' ')}` : ''}`;
  });
}

/** A logger that drops everything, for tests and one-shot CLI commands. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
