import { describe, expect, it } from "vitest";
import { cutUtf8, twitchId, twitchLanguage, twitchLogin } from "./bounds.ts";

describe("cutUtf8", () => {
  it("cuts by UTF-8 bytes without splitting a code point, and drops NULs", () => {
    expect(cutUtf8("abc", 2)).toBe("ab");
    expect(cutUtf8("aé", 2)).toBe("a");
    expect(cutUtf8("a😀b", 4)).toBe("a");
    expect(cutUtf8("a😀b", 5)).toBe("a😀");
    expect(cutUtf8("short\u0000", 1024)).toBe("short");
    const big = "€".repeat(2_000_000);
    const cut = cutUtf8(big, 1024);
    expect(Buffer.byteLength(cut)).toBe(1023);
    expect(cut).toBe("€".repeat(341));
  });
});

describe("twitch bounds", () => {
  it("ids are digits within bigint; logins [a-z0-9_]{1,25} lowercased; odd languages unknown", () => {
    expect(twitchId.safeParse("9223372036854775807").success).toBe(true);
    expect(twitchId.safeParse("9223372036854775808").success).toBe(false);
    expect(twitchId.safeParse("12a").success).toBe(false);
    expect(twitchLogin.parse("Malek_04")).toBe("malek_04");
    expect(twitchLogin.safeParse("a".repeat(26)).success).toBe(false);
    expect(twitchLogin.safeParse("").success).toBe(false);
    expect(twitchLogin.safeParse("drop;table").success).toBe(false);
    expect(twitchLanguage.parse("EN")).toBe("EN");
    expect(twitchLanguage.parse("pt-BR")).toBe("pt-BR");
    expect(twitchLanguage.parse("x".repeat(100))).toBeNull();
    expect(twitchLanguage.parse(undefined)).toBeNull();
  });
});
