/**
 * Live counters of the traffic an endpoint served. `requests` counts authenticated, well-formed HTTP requests that
 * carried commands (a pipeline or transaction is one request); `commands` counts the commands inside them (a
 * transaction's inner commands, not MULTI/EXEC); `byCommand` is keyed by upper-case command name.
 */
export interface UpstashLocalStats {
  requests: number;
  commands: number;
  byCommand: Record<string, number>;
  /** EVALSHA calls by script SHA-1 (EVAL by the SHA-1 of its source), so tests can tell one script's calls apart. */
  byScript: Record<string, number>;
  reset(): void;
}

/** Mutable implementation of {@link UpstashLocalStats}; the server records each accepted request into it. */
export class CommandStats implements UpstashLocalStats {
  requests = 0;
  commands = 0;
  readonly byCommand: Record<string, number> = {};
  readonly byScript: Record<string, number> = {};

  /** Counts one HTTP request carrying these commands (name upper-case; `script`: the SHA-1 an EVAL/EVALSHA runs). */
  record(commands: readonly { name: string; script?: string }[]): void {
    this.requests += 1;
    this.commands += commands.length;
    for (const { name, script } of commands) {
      this.byCommand[name] = (this.byCommand[name] ?? 0) + 1;
      if (script !== undefined) this.byScript[script] = (this.byScript[script] ?? 0) + 1;
    }
  }

  // An arrow property so `const { reset } = local.stats` still works; byCommand is cleared in place so a reference
  // a test took earlier stays live.
  reset = (): void => {
    this.requests = 0;
    this.commands = 0;
    for (const name of Object.keys(this.byCommand)) delete this.byCommand[name];
    for (const sha of Object.keys(this.byScript)) delete this.byScript[sha];
  };
}
