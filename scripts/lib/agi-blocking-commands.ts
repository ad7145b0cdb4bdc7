/**
 * The AGI commands that take time on a simulated channel: GET DATA, STREAM FILE and EXEC
 * Playback. Each plays a sound for its length, listens for keys, and ends with one reply, or
 * with none when new input on the AGI socket cancels it (res_agi then answers only the new
 * command), or with the hang-up reply when the channel is hung up or redirected.
 */
import { performance } from 'node:perf_hooks';
import { SAMPLES_PER_MS, type SimulatedChannel } from './simulated-channel';

export interface BlockingCommand {
  /** For the transcript: `GET DATA`, `STREAM FILE`, `EXEC Playback`. */
  readonly name: string;
  /** Whether a new line on the AGI socket stops it without a reply (res_agi watches the socket). */
  readonly stopsOnInput: boolean;
  /** Begins; `finish` is called at most once, possibly before start() returns. */
  start(finish: (reply: string, failed?: boolean) => void): void;
  /** A key the caller pressed; false when the command does not listen for it. */
  key(digit: string): boolean;
  /** The channel hung up or was redirected: stops and gives the reply that follows. */
  interrupt(): string;
  /** Stops without a reply. */
  cancel(): void;
}

/** Shared timer and finish bookkeeping. */
abstract class TimedCommand {
  private timer: NodeJS.Timeout | undefined;
  private finishFn: ((reply: string, failed?: boolean) => void) | undefined;
  protected startedAt = 0;

  protected begin(finish: (reply: string, failed?: boolean) => void): void {
    this.finishFn = finish;
    this.startedAt = performance.now();
  }

  protected after(ms: number, run: () => void): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(run, Math.max(0, ms));
  }

  protected done(reply: string, failed = false): void {
    const finish = this.finishFn;
    this.stop();
    finish?.(reply, failed);
  }

  protected elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  cancel(): void {
    this.stop();
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.finishFn = undefined;
  }
}

/**
 * GET DATA <file> [timeout] [max digits], as measured: the prompt plays; a key stops it and
 * counts; `#` ends input (and is not returned); max digits ends at once; silence for the
 * timeout ends with ` (timeout)`; a missing file answers -1 at once.
 */
export class GetDataCommand extends TimedCommand implements BlockingCommand {
  readonly name = 'GET DATA';
  readonly stopsOnInput = true;
  private readonly firstKeyMs: number;
  private readonly nextKeyMs: number;
  private digits = '';

  /**
   * @param promptMs the prompt's length; undefined when the file is missing; null for no prompt
   * @param timeoutArg the timeout as given: > 0 is ms for every key, 0 Asterisk's default (6 s
   *   for the first key, 2 s between keys), < 0 forever
   */
  constructor(
    private readonly promptMs: number | undefined | null,
    timeoutArg: number,
    private readonly maxDigits: number,
  ) {
    super();
    const forever = 1_000_000_000;
    this.firstKeyMs = timeoutArg > 0 ? timeoutArg : timeoutArg < 0 ? forever : 6000;
    this.nextKeyMs = timeoutArg > 0 ? timeoutArg : timeoutArg < 0 ? forever : 2000;
  }

  start(finish: (reply: string) => void): void {
    this.begin(finish);
    if (this.promptMs === undefined) return this.done('200 result=-1');
    if (this.promptMs === null) return this.waitForKey(this.firstKeyMs);
    this.after(this.promptMs, () => this.waitForKey(this.firstKeyMs));
  }

  key(digit: string): boolean {
    if (digit === '#') {
      this.done(`200 result=${this.digits}`);
      return true;
    }
    this.digits += digit;
    if (this.digits.length >= this.maxDigits) this.done(`200 result=${this.digits}`);
    else this.waitForKey(this.nextKeyMs);
    return true;
  }

  interrupt(): string {
    this.cancel();
    return '200 result=-1';
  }

  private waitForKey(ms: number): void {
    this.after(ms, () => this.done(`200 result=${this.digits} (timeout)`));
  }
}

/** STREAM FILE <file> <escape digits> [offset]: `200 result=0 endpos=1600` for 200 ms of sound. */
export class StreamFileCommand extends TimedCommand implements BlockingCommand {
  readonly name = 'STREAM FILE';
  readonly stopsOnInput = true;

  constructor(
    private readonly durationMs: number | undefined,
    private readonly escapeDigits: string,
    private readonly offsetSamples: number,
  ) {
    super();
  }

  start(finish: (reply: string, failed?: boolean) => void): void {
    this.begin(finish);
    // A missing file is RESULT_FAILURE: AGISTATUS ends FAILURE though the script goes on.
    if (this.durationMs === undefined) return this.done(`200 result=-1 endpos=${this.offsetSamples}`, true);
    const total = this.durationMs * SAMPLES_PER_MS;
    this.after(this.durationMs - this.offsetSamples / SAMPLES_PER_MS, () => this.done(`200 result=0 endpos=${total}`));
  }

  key(digit: string): boolean {
    if (!this.escapeDigits.includes(digit)) return false;
    this.done(`200 result=${digit.charCodeAt(0)} endpos=${this.position()}`);
    return true;
  }

  interrupt(): string {
    const reply = `200 result=-1 endpos=${this.position()}`;
    this.cancel();
    return reply;
  }

  private position(): number {
    return Math.min(this.durationMs ?? 0, Math.round(this.elapsedMs())) * SAMPLES_PER_MS + this.offsetSamples;
  }
}

/**
 * EXEC Playback <file[&file...]>: plays, ignoring keys and the AGI socket (the application does
 * not watch it), answers `200 result=0` and sets PLAYBACKSTATUS (measured, also for a missing file).
 */
export class PlaybackCommand extends TimedCommand implements BlockingCommand {
  readonly name = 'EXEC Playback';
  readonly stopsOnInput = false;

  constructor(
    private readonly channel: SimulatedChannel,
    private readonly files: string[],
  ) {
    super();
  }

  start(finish: (reply: string) => void): void {
    this.begin(finish);
    const durations = this.files.map((f) => this.channel.sounds.durationMs(f));
    if (durations.some((d) => d === undefined)) {
      this.channel.setVariable('PLAYBACKSTATUS', 'FAILED');
      return this.done('200 result=0');
    }
    const total = durations.reduce<number>((sum, d) => sum + (d ?? 0), 0);
    this.after(total, () => {
      this.channel.setVariable('PLAYBACKSTATUS', 'SUCCESS');
      this.done('200 result=0');
    });
  }

  key(): boolean {
    return false;
  }

  interrupt(): string {
    this.cancel();
    this.channel.setVariable('PLAYBACKSTATUS', 'FAILED');
    return '200 result=-1';
  }
}
