/**
 * The number of a call party, read from what Asterisk names it by: a channel
 * (`Local/100@from-internal-00000259;1`, `PJSIP/100-0000002a`), a dial string (`100@ctx`,
 * `PJSIP/+15557654321@trunk`, `PJSIP/trunk/sip:+15557654321@host`) or Dial's LastData
 * (`Local/100@ctx,10`). Pure, no I/O.
 */

/** The party's number, or undefined when nothing number-like is there. */
export function partyNumber(text: string | undefined): string | undefined {
  if (!text) return undefined;
  // LastData: the first of Dial's arguments; of a ring group (`A&B`), the first target.
  let rest = text.split(',')[0]!.split('&')[0]!.trim();
  // Before the context (`@ctx`, `@host`, and a Local `/n` option after it).
  const at = rest.indexOf('@');
  const hadContext = at !== -1;
  if (hadContext) rest = rest.slice(0, at);
  // Technology (Local/, PJSIP/...), and an endpoint before a SIP URI (PJSIP/trunk/sip:...).
  rest = rest.slice(rest.lastIndexOf('/') + 1).replace(/^sips?:/i, '');
  // A channel without a context: PJSIP/100-0000002a.
  if (!hadContext) rest = rest.replace(/-[0-9a-f]{8}(;\d)?$/i, '');
  rest = rest.trim();
  return /^[+0-9*#A-Za-z._-]{1,64}$/.test(rest) ? rest : undefined;
}

/** Caller ID numbers Asterisk writes when there is none. */
export function knownNumber(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const value = text.trim();
  // Longer than any phone number or extension: not a number worth writing anywhere.
  if (value.length > 64) return undefined;
  if (value === '' || value === '<unknown>' || value.toLowerCase() === 'unknown' || value === 's') return undefined;
  return value;
}
