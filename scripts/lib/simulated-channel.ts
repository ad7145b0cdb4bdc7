/**
 * The state of one simulated channel that AGI commands read and change: where it is in the
 * dialplan, its variables, whether it was answered, and whether it is gone (hung up or
 * redirected away), which makes AGI treat it as a dead channel.
 */

export interface DialplanLocation {
  context: string;
  exten: string;
  priority: number;
}

/** Why the channel left AGI's control: the caller hung up, AMI moved it, or AGI hung it up. */
export type ChannelGone = 'caller' | 'redirect' | 'agi-hangup';

/** Sound files the simulated Asterisk has: name -> playing time in ms, or 'missing'. */
export type SoundFiles = Record<string, number | 'missing'>;

/** The measured `STREAM FILE x ""` answered endpos=1600: 200 ms at 8000 samples a second. */
export const DEFAULT_SOUND_MS = 200;
export const SAMPLES_PER_MS = 8;

export class SoundLibrary {
  constructor(
    private readonly files: SoundFiles = { nosuchfile: 'missing' },
    private readonly defaultMs = DEFAULT_SOUND_MS,
  ) {}

  /** Playing time of a file, or undefined when Asterisk would not find it. */
  durationMs(name: string): number | undefined {
    const known = this.files[name];
    if (known === 'missing') return undefined;
    return known ?? this.defaultMs;
  }
}

const AST_STATE_RING = 4;
const AST_STATE_UP = 6;

export class SimulatedChannel {
  /** Channel variables by name (leading `_`/`__` inheritance marks removed, as Asterisk reads them). */
  readonly variables = new Map<string, string>();
  /**
   * Where the channel is. `priority` is the step AGI() runs at: when AGI ends normally the
   * channel goes on at priority + 1, so SET PRIORITY n stores n - 1 (ast_explicit_goto).
   */
  location: DialplanLocation;
  /** Whether SET CONTEXT/EXTENSION/PRIORITY (or EXEC Goto) changed `location`. */
  movedByAgi = false;
  answered = false;
  gone: ChannelGone | undefined;
  /** Where an AMI Redirect sends the channel once AGI ends. */
  redirectTarget: DialplanLocation | undefined;

  constructor(
    readonly name: string,
    readonly uniqueid: string,
    readonly callerId: string | undefined,
    readonly callerName: string | undefined,
    start: DialplanLocation,
    readonly sounds: SoundLibrary,
  ) {
    this.location = { ...start };
  }

  setVariable(name: string, value: string): void {
    this.variables.set(name.replace(/^_{1,2}/, ''), value);
  }

  /** GET VARIABLE's view: a few built-ins and functions, then the channel's variables. */
  getVariable(name: string): string | undefined {
    switch (name) {
      case 'CHANNEL':
        return this.name;
      case 'UNIQUEID':
        return this.uniqueid;
      case 'CONTEXT':
        return this.location.context;
      case 'EXTEN':
        return this.location.exten;
      case 'PRIORITY':
        return String(this.location.priority);
      case 'EPOCH':
        return String(Math.floor(Date.now() / 1000));
      case 'CALLERID(num)':
        return this.callerId ?? '';
      case 'CALLERID(name)':
        return this.callerName ?? '';
    }
    // An unknown function fails to read: `200 result=0`.
    if (name.endsWith(')')) return undefined;
    return this.variables.get(name);
  }

  moveTo(change: Partial<DialplanLocation>): void {
    this.location = { ...this.location, ...change };
    this.movedByAgi = true;
  }

  /** CHANNEL STATUS: Up once answered, Ring before (a Local channel running its dialplan). */
  get state(): number {
    return this.answered ? AST_STATE_UP : AST_STATE_RING;
  }
}

export function formatLocation(location: DialplanLocation): string {
  return `${location.context},${location.exten},${location.priority}`;
}
