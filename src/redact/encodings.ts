/**
 * The forms of a secret value that the redactor looks for. Processes print secrets in more
 * ways than raw: `base64` of a credential (HTTP basic auth, Kubernetes secrets), hex dumps,
 * URLs. A secret base64-encoded as part of a longer value lands at any of three bit
 * alignments, so besides the whole encodings we also register, per alignment, the run of
 * base64 characters that depends only on the secret's bytes (the "core").
 */

/** Shortest secret (in characters, and in UTF-8 bytes) the redactor accepts. */
export const MIN_SECRET_LENGTH = 6;

const encoder = new TextEncoder();

/** Distinct byte forms of `value` to match, each at least {@link MIN_SECRET_LENGTH} bytes. */
export function secretVariants(value: string): Uint8Array[] {
  const raw = encoder.encode(value);
  const forms = new Set<string>();
  const buffer = Buffer.from(raw);
  forms.add(buffer.toString("latin1"));
  const standard = buffer.toString("base64");
  const url = buffer.toString("base64url");
  forms.add(standard);
  forms.add(standard.replace(/=+$/, ""));
  forms.add(url);
  forms.add(`${url}${"=".repeat((4 - (url.length % 4)) % 4)}`);
  for (const offset of [0, 1, 2]) {
    const shifted = Buffer.concat([Buffer.alloc(offset), buffer]);
    // Character i covers bits [6i, 6i+6); keep those entirely inside the secret's bits.
    const first = Math.ceil((8 * offset) / 6);
    const last = Math.floor((8 * (offset + raw.length)) / 6);
    forms.add(shifted.toString("base64").slice(first, last));
    forms.add(shifted.toString("base64url").slice(first, last));
  }
  const hex = buffer.toString("hex");
  forms.add(hex);
  forms.add(hex.toUpperCase());
  forms.add(encoder.encode(encodeURIComponent(value)).reduce((text, byte) => text + String.fromCharCode(byte), ""));
  const out: Uint8Array[] = [];
  for (const form of forms) if (form.length >= MIN_SECRET_LENGTH) out.push(Buffer.from(form, "latin1"));
  return out;
}
