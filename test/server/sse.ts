/** One parsed Server-Sent Event. */
export interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

/** Reads a whole event stream (until the server closes it) into events; comments are skipped. */
export async function readEvents(response: Response): Promise<SseEvent[]> {
  const text = await response.text();
  return text
    .split("\n\n")
    .map((block) => block.split("\n").filter((line) => !line.startsWith(":")))
    .filter((lines) => lines.length > 0 && lines[0] !== "")
    .map((lines) => ({
      event: (lines.find((l) => l.startsWith("event: ")) ?? "event: message").slice(7),
      data: JSON.parse((lines.find((l) => l.startsWith("data: ")) ?? "data: {}").slice(6)) as Record<string, unknown>,
    }));
}
