/**
 * `Logger`: level-filtered lines to the client's output channel (connection.console) or, in
 * the CLI, to stderr. The level is read on every call, so a settings change applies at once.
 */
import type { LogLevel } from '../protocol/index';

export type { LogLevel };

export interface Logger {
  error(line: string): void;
  warn(line: string): void;
  info(line: string): void;
  debug(line: string): void;
}

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface LogSink {
  error(line: string): void;
  warn(line: string): void;
  info(line: string): void;
  log(line: string): void;
}

export function createLogger(sink: LogSink, level: () => LogLevel): Logger {
  const on = (l: LogLevel): boolean => RANK[l] <= RANK[level()];
  return {
    error: (line) => on('error') && sink.error(line),
    warn: (line) => on('warn') && sink.warn(line),
    info: (line) => on('info') && sink.info(line),
    debug: (line) => on('debug') && sink.log(line),
  };
}
