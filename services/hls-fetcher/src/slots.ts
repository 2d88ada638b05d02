import type { LimitFunction } from "p-limit";

/**
 * `work` for every item, each in one of the shared slots; results in the items' order. After one
 * failure no item of this call starts (the batch is retried whole, and orphans would fetch twice),
 * and the call settles only once its items in flight have, so a retry never overlaps them.
 */
export async function inSlots<T, R>(
  slots: LimitFunction,
  items: readonly T[],
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  let failure: { err: unknown } | undefined;
  const out = new Array<R>(items.length);
  await Promise.all(
    items.map((item, i) =>
      slots(async () => {
        if (failure) return;
        try {
          out[i] = await work(item);
        } catch (err) {
          failure ??= { err };
        }
      }),
    ),
  );
  if (failure) throw failure.err;
  return out;
}
