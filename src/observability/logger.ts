import winston from 'winston';

/** The logger every part receives; never a global. */
export type Logger = winston.Logger;

/** json: one JSON object per line, for machines (the default); text: one readable line, for a terminal. */
export type LogFormat = 'json' | 'text';

/** Control characters: written as escapes in text lines. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/g;

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

/**
 * One line per event whatever the text holds: messages and fields carry alert text (labels,
 * notify texts, command output), which must neither start a line of its own that looks like
 * another event nor send escape codes to the terminal. Control characters are written as JSON
 * escapes, and a value with spaces or escapes is quoted.
 */
function textFormat(): winston.Logform.Format {
  return winston.format.printf((info) => {
    const fields = Object.entries(info)
      .filter(([k, v]) => !OWN_FIELDS.has(k) && v !== undefined && typeof k === 'string')
      .map(([k, v]) => `${k}=${typeof v === 'string' && !/[\s"]/.test(v) && !v.match(CONTROL) ? v : JSON.stringify(v)}`);
    return `${String(info['timestamp'])} ${String(info.level).padEnd(5)} ${escapeControls(String(info.message))}${fields.length > 0 ? `  ${fields.join(' ')}` : ''}`;
  });
}

/** Control characters as JSON writes them (\n, \u001b): the text stays on its line, inert. */
function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => JSON.stringify(c).slice(1, -1));
}

/** A logger that drops everything, for tests and one-shot CLI commands. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
