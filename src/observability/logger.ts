import winston from 'winston';

/** The logger every part receives; never a global. */
export type Logger = winston.Logger;

/** JSON lines on stdout, one object per event, with run ids as fields. */
export function createLogger(level: string, stream: NodeJS.WritableStream = process.stdout): Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: false }), winston.format.json()),
    transports: [new winston.transports.Stream({ stream })],
  });
}

/** A logger that drops everything, for tests and one-shot CLI commands. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
