/** Where one budget keeps its timing in Redis; every process naming the same id shares it. */
export interface BudgetKeys {
  /** The earliest time (Redis's clock, ms) the next request may start. */
  key: string;
  /** The spacing the fetchers' limiter last started with (a 429 widens it). */
  spacingKey: string;
  /** The earliest time the spare turns' share may reserve a turn again. */
  shareKey: string;
}

export function budgetKeys(id: string): BudgetKeys {
  const prefix = `vod:cdn-budget:${id}`;
  return { key: `${prefix}:last-start`, spacingKey: `${prefix}:spacing`, shareKey: `${prefix}:share` };
}
