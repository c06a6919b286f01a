import { describe, expect, test } from "bun:test";
import { mcpActorName } from "../../src/mcp/index.ts";
import { CappedOutput } from "../../src/mcp/results.ts";

describe("mcp units", () => {
  test("mcp actor: the client's self-reported name is reduced to plain characters under an mcp: prefix", () => {
    expect(mcpActorName("openclaw")).toBe("mcp:openclaw");
    expect(mcpActorName("Claude Desktop")).toBe("mcp:Claude_Desktop");
    expect(mcpActorName("evil\n\u001b[31mname")).toBe("mcp:evil_31mname");
    expect(mcpActorName(undefined)).toBe("mcp:unknown");
    expect(mcpActorName("\n\n")).toBe("mcp:unknown");
    expect(mcpActorName("x".repeat(500))).toHaveLength(104);
  });

  test("mcp output cap: keeps at most the cap, counts everything, never ends in a broken UTF-8 character", () => {
    const ascii = new CappedOutput(8);
    ascii.push(new TextEncoder().encode("0123"));
    ascii.push(new TextEncoder().encode("456789ab"));
    expect(ascii.total).toBe(12);
    expect(ascii.truncated).toBe(true);
    expect(ascii.text()).toBe("01234567\n[aegisclaw: output cut at 8 bytes; 4 more bytes not shown]");

    for (const [text, cap, kept] of [["aé€😀", 2, "a"], ["aé€😀", 3, "aé"], ["aé€😀", 4, "aé"], ["aé€😀", 6, "aé€"], ["aé€😀", 9, "aé€"], ["aé€😀", 10, "aé€😀"]] as const) {
      const out = new CappedOutput(cap);
      out.push(new TextEncoder().encode(text));
      expect(out.text().split("\n")[0]).toBe(kept);
      expect(out.text()).not.toContain("\uFFFD");
    }
    const whole = new CappedOutput(4);
    whole.push(new TextEncoder().encode("abcd"));
    expect(whole.truncated).toBe(false);
    expect(whole.text()).toBe("abcd");
  });
});
