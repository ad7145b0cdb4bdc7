/**
 * Properties of the parser that must hold for any input: the same items whatever the chunking,
 * no throw, no hang, and buffers that never pass the limits.
 */
import assert from 'node:assert/strict';
import { AgiParser, type AgiParserEvent, type AgiParserOptions } from '../../src/call/agi-parser';
import { seededRandom as random } from '../../scripts/lib/seeded-random';
import { FULL_HEADER, HEADER_WITHOUT_CALLER_ID, HEADER_WITH_ARGS, USAGE_BLOCK } from '../support/agi-transcripts';

const TRANSCRIPTS: Record<string, string> = {
  'full header, replies and hang-ups': `${FULL_HEADER}200 result=1\nHANGUP\n200 result=-1\nHANGUP\nHANGUP\n`,
  'no caller ID, GET DATA shapes': `${HEADER_WITHOUT_CALLER_ID}200 result= (timeout)\n200 result=5 (timeout)\n200 result=1234\n200 result=-1\n`,
  'arguments, 510, 511, 520 block': `${HEADER_WITH_ARGS}510 Invalid or unknown command\n511 Command Not Permitted on a dead channel or intercept routine\n${USAGE_BLOCK}200 result=0 endpos=1600\n`,
  'CRLF everywhere': `${FULL_HEADER}200 result=1 (some value)\nHANGUP\n`.replace(/\n/g, '\r\n'),
  'AGIEXITONHANGUP in one segment': `${FULL_HEADER}200 result=-1\nHANGUP\nHANGUP\n`,
  'garbage between replies': `${FULL_HEADER}what?\n200 result=0\n`,
  'oversize header': `${FULL_HEADER.replace('agi_threadid: ', `agi_threadid: ${'9'.repeat(9000)}`)}`,
  'oversize reply line': `${FULL_HEADER}200 result=1 (${'x'.repeat(9000)})\nHANGUP\n`,
};

function parseInPieces(input: Buffer, cuts: number[], options?: AgiParserOptions): AgiParserEvent[] {
  const parser = new AgiParser(options);
  const events: AgiParserEvent[] = [];
  let start = 0;
  for (const cut of [...cuts, input.length]) {
    events.push(...parser.push(input.subarray(start, cut)));
    start = cut;
  }
  return events;
}

/** Limits the measured transcripts cross part-way, so errors land inside split lines too. */
const SMALL_LIMITS: Required<AgiParserOptions> = { maxHeaderBytes: 600, maxHeaderLines: 10, maxLineBytes: 40, maxUsageBytes: 120 };
const LIMIT_SETS: Array<[string, AgiParserOptions]> = [
  ['default', {}],
  ['header bytes 300', { maxHeaderBytes: 300 }],
  ['small', SMALL_LIMITS],
];

describe('AgiParser under any chunking', () => {
  for (const [limits, options] of LIMIT_SETS) {
    for (const [name, text] of Object.entries(TRANSCRIPTS)) {
      it(`parses "${name}" (${limits} limits) the same when split at every byte and fed one byte at a time`, () => {
        const input = Buffer.from(text);
        const whole = parseInPieces(input, [], options);
        assert.ok(whole.length > 0);
        for (let cut = 0; cut <= input.length; cut += 1) {
          assert.deepEqual(parseInPieces(input, [cut], options), whole, `split at byte ${cut}`);
        }
        const everyByte = Array.from({ length: input.length }, (_, i) => i);
        assert.deepEqual(parseInPieces(input, everyByte, options), whole);
      });
    }
  }
});


const ALPHABET = Buffer.from('agi_: \n\r\n()=-0123456789result HANGUP 200 510 520-520 \u0000\u00ff');
const SEEDS = Object.values(TRANSCRIPTS).map((text) => Buffer.from(text));

function junk(next: () => number, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i += 1) {
    bytes[i] = next() < 0.8 ? ALPHABET[Math.floor(next() * ALPHABET.length)]! : Math.floor(next() * 256);
  }
  return bytes;
}

function mutate(next: () => number, input: Buffer): Buffer {
  let bytes = Buffer.from(input);
  const edits = 1 + Math.floor(next() * 8);
  for (let i = 0; i < edits; i += 1) {
    const at = Math.floor(next() * (bytes.length + 1));
    const choice = next();
    if (choice < 0.3) bytes = Buffer.concat([bytes.subarray(0, at), junk(next, 1 + Math.floor(next() * 20)), bytes.subarray(at)]);
    else if (choice < 0.6) bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + Math.floor(next() * 30))]);
    else if (choice < 0.8 && at < bytes.length) bytes[at] = Math.floor(next() * 256);
    else bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at, at + Math.floor(next() * 200)), bytes.subarray(at)]);
  }
  return bytes;
}

describe('AgiParser fuzz', () => {
  for (const [label, options] of [['default limits', {}], ['small limits', SMALL_LIMITS]] as const) {
    it(`survives random and mutated input for ~1 s with ${label}`, function () {
      this.timeout(10_000);
      const limits = { maxHeaderBytes: 8192, maxLineBytes: 8192, maxUsageBytes: 16384, ...options };
      const bound = Math.max(limits.maxHeaderBytes, limits.maxLineBytes, limits.maxUsageBytes);
      const seed = Date.now();
      const next = random(seed);
      const stopAt = Date.now() + 1_000;
      let runs = 0;
      while (Date.now() < stopAt) {
        runs += 1;
        const base = SEEDS[Math.floor(next() * SEEDS.length)]!;
        const input = next() < 0.25 ? junk(next, Math.floor(next() * 3000)) : mutate(next, next() < 0.5 ? base : Buffer.concat([base, base]));
        const cuts = Array.from({ length: Math.floor(next() * 12) }, () => Math.floor(next() * (input.length + 1))).sort((a, b) => a - b);
        const parser = new AgiParser(options);
        const events: AgiParserEvent[] = [];
        let start = 0;
        for (const cut of [...cuts, input.length]) {
          const got = parser.push(input.subarray(start, cut));
          events.push(...got);
          start = cut;
          assert.ok(parser.bufferedBytes <= bound, `seed ${seed} run ${runs}: ${parser.bufferedBytes} bytes buffered`);
          assert.ok(got.length <= cut - start + input.length + 1);
        }
        const errors = events.filter((event) => event.type === 'error');
        assert.ok(errors.length <= 1, `seed ${seed} run ${runs}: at most one error`);
        if (errors.length === 1) assert.equal(events.at(-1), errors[0], `seed ${seed} run ${runs}: nothing after an error`);
        assert.ok(events.filter((event) => event.type === 'header').length <= 1);
        assert.deepEqual(events, new AgiParser(options).push(input), `seed ${seed} run ${runs}: chunking changed the result`);
      }
      assert.ok(runs > 100, `only ${runs} runs`);
    });
  }
});
