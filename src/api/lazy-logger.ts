/**
 * Fastify gives every request a child logger bound to its request id. With redaction on, pino
 * serialises and redacts those bindings when the child is made, a cost every request paid even
 * though most log nothing (at LOG_LEVEL=warn, all but failures). This child is made on the first
 * line that is actually written; until then each call is one level check.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, LevelWithSilentOrString } from 'pino';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

class LazyChildLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions | undefined,
  ) {}

  private get real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.options));
  }

  private enabled(logger: FastifyBaseLogger, level: string): boolean {
    // pino loggers answer isLevelEnabled; any other logger is asked to write and decides itself.
    const check = (logger as { isLevelEnabled?: (l: string) => boolean }).isLevelEnabled;
    return check ? check.call(logger, level) : true;
  }

  private write(level: Level, args: unknown[]): void {
    if (this.made || this.enabled(this.parent, level)) (this.real[level] as (...a: unknown[]) => void)(...args);
  }

  get level(): LevelWithSilentOrString {
    return this.made?.level ?? this.parent.level;
  }

  set level(v: LevelWithSilentOrString) {
    this.real.level = v;
  }

  isLevelEnabled(level: string): boolean {
    return this.enabled(this.made ?? this.parent, level);
  }

  fatal(...a: unknown[]) { this.write('fatal', a); }
  error(...a: unknown[]) { this.write('error', a); }
  warn(...a: unknown[]) { this.write('warn', a); }
  info(...a: unknown[]) { this.write('info', a); }
  debug(...a: unknown[]) { this.write('debug', a); }
  trace(...a: unknown[]) { this.write('trace', a); }
  silent() {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real.child(bindings, options);
  }
}

export function lazyChildLogger(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions | undefined): FastifyBaseLogger {
  return new LazyChildLogger(parent, bindings, options) as unknown as FastifyBaseLogger;
}
