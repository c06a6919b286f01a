import { describe, expect, test } from "bun:test";
import { Redactor } from "../../src/redact/index.ts";

const r = () => new Redactor();
const ALNUM = "aB3dE5fG7hJ9kL2mN4pQ6rS8tU0vW1xY3zA5bC7dE9fG1hJ3kL5mN7pQ9rS1tU3vW5xY7z";
const body = (length: number) => ALNUM.slice(0, length);

const PEM = [
  "-----BEGIN RSA PRIVATE KEY-----",
  "MIIEowIBAAKCAQEA7nJk3m0Yb9F5vN2QxX8s5b0Wq3kQk8bYcQm2F1YxL0eVx8Ww",
  "Proc-Type: 4,ENCRYPTED",
  "kQk8bYcQm2F1YxL0eVx8Ww==",
  "-----END RSA PRIVATE KEY-----",
].join("\n");

const positives: Array<[string, string, string]> = [
  ["aws-access-key", `AKIA${"IOSFODNN7EXAMPLE"}`, "AKIAIOSFODNN7EXAMPLE"],
  ["aws-access-key (session)", "ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A"],
  ["github-token ghp_", `ghp_${body(36)}`, "github-token"],
  ["github-token ghs_", `ghs_${body(36)}`, "github-token"],
  ["github-token github_pat_", `github_pat_11ABCDEFG0${body(20)}_${body(59)}`, "github-token"],
  ["gitlab-token", `glpat-${body(20)}`, "gitlab-token"],
  ["slack-token", "xoxb-2134213421-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "slack-token"],
  ["openai-key", `sk-${body(48)}`, "openai-key"],
  ["openai-key project", `sk-proj-${body(40)}_${body(40)}-${body(30)}`, "openai-key"],
  ["anthropic-key", `sk-ant-api03-${body(60)}-${body(30)}AA`, "anthropic-key"],
  ["google-api-key", `AIza${body(35)}`, "google-api-key"],
  ["jwt", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "jwt"],
  ["pem-private-key", PEM, "pem-private-key"],
  ["pem-private-key openssh", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----", "pem-private-key"],
];

describe("redactor detectors", () => {
  for (const [name, token, kindOrSame] of positives) {
    test(`detectors: ${name} is redacted in the middle of a line and at its ends`, () => {
      const kind = kindOrSame.startsWith("AKIA") || kindOrSame.startsWith("ASIA") ? "aws-access-key" : kindOrSame;
      const redactor = r();
      expect(redactor.redactText(`token=${token}; next`)).toBe(`token=[REDACTED:${kind}]; next`);
      expect(redactor.redactText(token)).toBe(`[REDACTED:${kind}]`);
      expect(redactor.redactText(`"${token}"`)).toBe(`"[REDACTED:${kind}]"`);
      expect(redactor.counts().byKind[kind]).toBe(3);
    });
  }

  test("detectors: a JWT at the end of a sentence keeps the full stop", () => {
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
    expect(r().redactText(`token is ${jwt}.`)).toBe("token is [REDACTED:jwt].");
  });

  test("detectors: a private key cut off before its END line is still redacted", () => {
    const truncated = PEM.split("\n").slice(0, 2).join("\n");
    expect(r().redactText(`${truncated}`)).toBe("[REDACTED:pem-private-key]");
    expect(r().redactText(`${truncated}\n!! process killed`)).toBe("[REDACTED:pem-private-key]\n!! process killed");
  });

  test("detectors: public keys and certificates are left alone", () => {
    const cert = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----";
    const pub = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYI\n-----END PUBLIC KEY-----";
    expect(r().redactText(cert)).toBe(cert);
    expect(r().redactText(pub)).toBe(pub);
  });

  const negatives: Array<[string, string]> = [
    ["ordinary words and flags", "the task-runner uses sk-learn and --disk-size; ask-me-anything desk-top"],
    ["prefixes inside longer words", `XAKIAIOSFODNN7EXAMPLE notghp_${body(36)} myAIza${body(35)}`],
    ["too-long or too-short bodies", `AKIAIOSFODNN7EXAMPLEX ghp_${body(35)} ghp_${body(37)} AIza${body(34)} glpat-short`],
    ["lowercase aws-like id", "AKIAiosfodnn7example"],
    ["sk- without digits", "sk-this-is-a-very-long-flag-name-without-numbers"],
    ["UUIDs", "request 123e4567-e89b-12d3-a456-426614174000 done"],
    ["git SHAs and sha256 sums", "commit 9fceb02d0ae598e95dc970b74767f19372d61af8\n" + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  file"],
    ["a lone eyJ segment", "eyJhbGciOiJIUzI1NiJ9 alone and eyJhbGciOiJIUzI1NiJ9.only-two"],
    ["slack-like words", "xoxb-not-a-token and xoxo-hugs"],
    ["paths and urls", "/home/user/projects/aegisclaw/node_modules/typescript/lib https://example.com/a-b_c"],
  ];
  for (const [name, input] of negatives) {
    test(`detectors: no false positive on ${name}`, () => {
      const redactor = r();
      expect(redactor.redactText(input)).toBe(input);
      expect(redactor.counts().total).toBe(0);
    });
  }

  test("detectors: can be switched off", () => {
    const input = `AKIAIOSFODNN7EXAMPLE ghp_${body(36)}`;
    expect(new Redactor({ detectors: false }).redactText(input)).toBe(input);
  });
});

describe("redactor high-entropy detector", () => {
  const random = "Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTBBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWg";
  test("high-entropy: off by default, on when asked", () => {
    expect(new Redactor().redactText(`key ${random} end`)).toBe(`key ${random} end`);
    expect(new Redactor({ highEntropy: true }).redactText(`key ${random} end`)).toBe("key [REDACTED:high-entropy] end");
  });

  test("high-entropy: random base64 of 32+ characters is flagged", () => {
    const redactor = new Redactor({ highEntropy: true });
    for (let i = 0; i < 50; i++) {
      const token = Buffer.from(crypto.getRandomValues(new Uint8Array(30))).toString("base64url").replace(/^/, "A1b");
      expect(redactor.redactText(`v=${token};`)).toBe("v=[REDACTED:high-entropy];");
    }
  });

  test("high-entropy: hex digests, UUIDs, identifiers, paths and prose are not flagged", () => {
    const redactor = new Redactor({ highEntropy: true });
    const inputs = [
      "9fceb02d0ae598e95dc970b74767f19372d61af8",
      "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
      "123e4567-e89b-12d3-a456-426614174000",
      "AbstractSingletonProxyFactoryBean2",
      "/usr/local/lib/python3/site-packages/numpy",
      "The quick brown fox jumps over the lazy dog, again and again.",
      "short0Ab",
    ];
    for (const input of inputs) expect(redactor.redactText(input)).toBe(input);
  });

  test("high-entropy: a very long random run is redacted in bounded pieces", () => {
    const redactor = new Redactor({ highEntropy: true });
    const long = Buffer.from(crypto.getRandomValues(new Uint8Array(3000))).toString("base64");
    const output = redactor.redactText(long);
    expect(output).toMatch(/^(\[REDACTED:high-entropy\])+[A-Za-z0-9+/=]*$/);
    expect(output.length).toBeLessThan(200);
  });
});
