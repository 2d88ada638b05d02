/** An operator-facing failure: main prints its message alone and exits 2. */
export class CommandError extends Error {
  override name = "CommandError";
  /** 2: refused; 1: ran and did not find what was asked (`vods recover`). */
  constructor(
    message: string,
    readonly exitCode = 2,
    /** Printed on stdout before the message goes to stderr (`--json` answers). */
    readonly stdout?: string,
  ) {
    super(message);
  }
}

/** Bad arguments; the message says what is wrong and shows the usage. */
export class UsageError extends CommandError {
  override name = "UsageError";
}
