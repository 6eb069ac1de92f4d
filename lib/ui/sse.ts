/**
 * JSON for the feed: like `JSON.stringify`, with bigints (e.g. in source
 * offsets) written as strings.
 */
export function feedJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/**
 * One Server-Sent-Events message (the HTML standard's `text/event-stream`):
 * `id:` and `event:` lines, the data as JSON in one `data:` line per line of
 * text, and the blank line that ends the message.
 */
export function formatSseEvent(event: string, data: unknown, id?: number): string {
  if (/[\r\n]/.test(event)) throw new TypeError(`formatSseEvent: an event name has no line breaks; got ${JSON.stringify(event)}`);
  const lines = feedJson(data).split(/\r\n|\r|\n/);
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\n${lines.map((line) => `data: ${line}`).join('\n')}\n\n`;
}
