/** One shared copy of each recent string; forgets them all once `max` are held. */
export class Interner {
  readonly #known = new Map<string, string>();

  constructor(private readonly max: number) {}

  intern(value: string): string {
    const known = this.#known.get(value);
    if (known !== undefined) return known;
    if (this.#known.size >= this.max) this.#known.clear();
    this.#known.set(value, value);
    return value;
  }
}
