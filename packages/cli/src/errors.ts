/** An operator-facing failure: main prints its message alone and exits 2. */
export class CommandError extends Error {
  override name = "CommandError";
}

/** Bad arguments; the message says what is wrong and shows the usage. */
export class UsageError extends CommandError {
  override name = "UsageError";
}
