/**
 * Every value of Twitch's `Language` enum (broadcaster languages, the type of
 * `StreamOptions.languages`), from the scraped schema. Filters that together name all of them
 * cover every stream; a test checks this list against the schema.
 */
export const LANGUAGES = [
  "AR",
  "ASL",
  "BG",
  "CA",
  "CS",
  "DA",
  "DE",
  "EL",
  "EN",
  "ES",
  "FI",
  "FR",
  "HI",
  "HU",
  "ID",
  "IT",
  "JA",
  "KO",
  "MS",
  "NL",
  "NO",
  "OTHER",
  "PL",
  "PT",
  "RO",
  "RU",
  "SK",
  "SV",
  "TH",
  "TL",
  "TR",
  "UK",
  "VI",
  "ZH",
  "ZH_HK",
] as const;

export type Language = (typeof LANGUAGES)[number];

export const isLanguage = (value: string): value is Language => (LANGUAGES as readonly string[]).includes(value);
