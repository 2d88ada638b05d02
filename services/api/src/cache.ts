/**
 * A value recomputed at most once per `ttlMs`; callers arriving while it is being computed share
 * that one computation, so an aggregate over the archive runs once however many ask at once.
 */
export function cached<T>(ttlMs: number, compute: () => Promise<T>): () => Promise<T> {
  let value: { at: number; data: T } | undefined;
  let pending: Promise<T> | undefined;
  return () => {
    if (value && Date.now() - value.at < ttlMs) return Promise.resolve(value.data);
    pending ??= compute()
      .then((data) => {
        value = { at: Date.now(), data };
        return data;
      })
      .finally(() => (pending = undefined));
    return pending;
  };
}
