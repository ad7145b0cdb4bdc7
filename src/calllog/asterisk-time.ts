/**
 * Cdr and CEL times: local `YYYY-MM-DD HH:MM:SS` of the Asterisk server, 1 s resolution, no zone
 * (measured). Read in the zone the plugin is told Asterisk runs in. Pure, no I/O.
 */

const SHAPE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** Milliseconds since the epoch, or undefined for an empty or malformed time. `timeZone` is an IANA name; default the process's own. */
export function parseAsteriskTime(text: string | undefined, timeZone?: string): number | undefined {
  const match = text ? SHAPE.exec(text.trim()) : null;
  if (!match) return undefined;
  const [y, mo, d, h, mi, s] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  if (!timeZone) {
    const local = new Date(y, mo - 1, d, h, mi, s).getTime();
    return Number.isNaN(local) ? undefined : local;
  }
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  // The zone's offset at that moment, found by formatting it there (twice, for a DST edge).
  let guess = asUtc - offsetMs(asUtc, timeZone);
  guess = asUtc - offsetMs(guess, timeZone);
  return guess;
}

function offsetMs(at: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(at / 1000) * 1000;
}
