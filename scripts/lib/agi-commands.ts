/**
 * The simulated Asterisk's AGI command table: which commands res_agi knows, which of them work
 * on a dead channel, and the replies measured on Asterisk 22.10.1 (shared/reference/asterisk.md,
 * "Replies measured"). Where the reference is silent the handler follows res_agi.c and says so.
 * Commands res_agi knows but this simulator does not implement answer 510 with a note in the
 * transcript, so a test notices.
 */
import { atoi, leadingInteger, splitAgiArgs, splitAppArgs } from './agi-args';
import { GetDataCommand, PlaybackCommand, StreamFileCommand, type BlockingCommand } from './agi-blocking-commands';
import type { SimulatedChannel } from './simulated-channel';

export type AgiCommandResult =
  /** `text` is the whole reply without its last LF; `failed` is res_agi's RESULT_FAILURE. */
  | { kind: 'reply'; text: string; failed?: boolean; hangsUp?: boolean }
  | { kind: 'blocking'; command: BlockingCommand };

export interface AgiCommandContext {
  channel: SimulatedChannel;
  note(text: string): void;
}

type Handler = (args: string[], ctx: AgiCommandContext) => AgiCommandResult | 'usage';

interface AgiCommandSpec {
  words: string[];
  /** Whether res_agi runs it on a dead channel (its `dead` flag); otherwise 511. */
  dead: boolean;
  syntax: string;
  run?: Handler;
}

export const UNKNOWN_COMMAND = '510 Invalid or unknown command';
export const DEAD_CHANNEL = '511 Command Not Permitted on a dead channel or intercept routine';

const reply = (text: string, extra: { failed?: boolean; hangsUp?: boolean } = {}): AgiCommandResult => ({ kind: 'reply', text, ...extra });
const blocking = (command: BlockingCommand): AgiCommandResult => ({ kind: 'blocking', command });

/** In res_agi's order; find_command() takes the first whose words start the line. */
const COMMANDS: AgiCommandSpec[] = [
  { words: ['answer'], dead: false, syntax: 'ANSWER', run: answer },
  { words: ['asyncagi', 'break'], dead: true, syntax: 'ASYNCAGI BREAK' },
  { words: ['channel', 'status'], dead: false, syntax: 'CHANNEL STATUS [channelname]', run: channelStatus },
  { words: ['database', 'del'], dead: true, syntax: 'DATABASE DEL <family> <key>' },
  { words: ['database', 'deltree'], dead: true, syntax: 'DATABASE DELTREE <family> [keytree]' },
  { words: ['database', 'get'], dead: true, syntax: 'DATABASE GET <family> <key>' },
  { words: ['database', 'put'], dead: true, syntax: 'DATABASE PUT <family> <key> <value>' },
  { words: ['exec'], dead: true, syntax: 'EXEC <application> <options>', run: exec },
  { words: ['get', 'data'], dead: false, syntax: 'GET DATA <file> [timeout] [maxdigits]', run: getData },
  { words: ['get', 'full', 'variable'], dead: true, syntax: 'GET FULL VARIABLE <variablename> [channel name]' },
  { words: ['get', 'option'], dead: false, syntax: 'GET OPTION <filename> <escape_digits> [timeout]' },
  { words: ['get', 'variable'], dead: true, syntax: 'GET VARIABLE <variablename>', run: getVariable },
  { words: ['gosub'], dead: false, syntax: 'GOSUB <context> <extension> <priority> [optional-argument]' },
  { words: ['hangup'], dead: false, syntax: 'HANGUP [channelname]', run: hangup },
  { words: ['noop'], dead: true, syntax: 'NOOP', run: () => reply('200 result=0') },
  { words: ['receive', 'char'], dead: false, syntax: 'RECEIVE CHAR <timeout>' },
  { words: ['receive', 'text'], dead: false, syntax: 'RECEIVE TEXT <timeout>' },
  { words: ['record', 'file'], dead: false, syntax: 'RECORD FILE <filename> <format> <escape_digits> <timeout>' },
  ...['alpha', 'digits', 'number', 'phonetic', 'date', 'time', 'datetime'].map((w) => ({
    words: ['say', w],
    dead: false,
    syntax: `SAY ${w.toUpperCase()} <value> <escape_digits>`,
  })),
  { words: ['send', 'image'], dead: false, syntax: 'SEND IMAGE <image>' },
  { words: ['send', 'text'], dead: false, syntax: 'SEND TEXT <text to send>' },
  { words: ['set', 'autohangup'], dead: false, syntax: 'SET AUTOHANGUP <time>' },
  { words: ['set', 'callerid'], dead: false, syntax: 'SET CALLERID <number>' },
  { words: ['set', 'context'], dead: false, syntax: 'SET CONTEXT <desired context>', run: setContext },
  { words: ['set', 'extension'], dead: false, syntax: 'SET EXTENSION <new extension>', run: setExtension },
  { words: ['set', 'music'], dead: false, syntax: 'SET MUSIC <on|off> <class>' },
  { words: ['set', 'priority'], dead: false, syntax: 'SET PRIORITY <priority>', run: setPriority },
  { words: ['set', 'variable'], dead: true, syntax: 'SET VARIABLE <variablename> <value>', run: setVariable },
  { words: ['stream', 'file'], dead: false, syntax: 'STREAM FILE <filename> <escape_digits> [sample offset]', run: streamFile },
  { words: ['control', 'stream', 'file'], dead: false, syntax: 'CONTROL STREAM FILE <filename> <escape_digits>' },
  { words: ['tdd', 'mode'], dead: false, syntax: 'TDD MODE <on|off>' },
  { words: ['verbose'], dead: true, syntax: 'VERBOSE <message> <level>', run: verbose },
  { words: ['wait', 'for', 'digit'], dead: false, syntax: 'WAIT FOR DIGIT <timeout>' },
  { words: ['speech', 'create'], dead: false, syntax: 'SPEECH CREATE <engine>' },
  { words: ['speech', 'set'], dead: false, syntax: 'SPEECH SET <name> <value>' },
  { words: ['speech', 'destroy'], dead: true, syntax: 'SPEECH DESTROY' },
  { words: ['speech', 'load', 'grammar'], dead: false, syntax: 'SPEECH LOAD GRAMMAR <grammar name> <path to grammar>' },
  { words: ['speech', 'unload', 'grammar'], dead: true, syntax: 'SPEECH UNLOAD GRAMMAR <grammar name>' },
  { words: ['speech', 'activate', 'grammar'], dead: false, syntax: 'SPEECH ACTIVATE GRAMMAR <grammar name>' },
  { words: ['speech', 'deactivate', 'grammar'], dead: false, syntax: 'SPEECH DEACTIVATE GRAMMAR <grammar name>' },
  { words: ['speech', 'recognize'], dead: false, syntax: 'SPEECH RECOGNIZE <prompt> <timeout> [offset]' },
];

/** Runs one command line on the channel and says what Asterisk answers. */
export function runAgiCommand(line: string, ctx: AgiCommandContext): AgiCommandResult {
  const args = splitAgiArgs(line);
  const spec = COMMANDS.find((c) => c.words.every((word, i) => args[i]?.toLowerCase() === word));
  if (!spec) return reply(UNKNOWN_COMMAND);
  if (ctx.channel.gone && !spec.dead) return reply(DEAD_CHANNEL);
  if (!spec.run) {
    ctx.note(`simulator: ${spec.words.join(' ').toUpperCase()} is a real AGI command that is not simulated; answered 510`);
    return reply(UNKNOWN_COMMAND);
  }
  const result = spec.run(args, ctx);
  if (result !== 'usage') return result;
  // The middle lines are Asterisk's usage text; only the first and last lines are fixed.
  return reply(`520-Invalid command syntax.  Proper usage follows:\nUsage: ${spec.syntax}\n520 End of proper usage.`);
}

function answer(_args: string[], { channel }: AgiCommandContext): AgiCommandResult {
  channel.answered = true;
  return reply('200 result=0');
}

function channelStatus(args: string[], { channel }: AgiCommandContext): AgiCommandResult | 'usage' {
  if (args.length === 2) return reply(`200 result=${channel.state}`);
  if (args.length === 3) return reply(args[2] === channel.name ? `200 result=${channel.state}` : '200 result=-1');
  return 'usage';
}

function hangup(args: string[], { channel }: AgiCommandContext): AgiCommandResult | 'usage' {
  if (args.length === 1 || (args.length === 2 && args[1] === channel.name)) return reply('200 result=1', { hangsUp: true });
  if (args.length === 2) return reply('200 result=-1');
  return 'usage';
}

function setContext(args: string[], { channel }: AgiCommandContext): AgiCommandResult | 'usage' {
  if (args.length !== 3) return 'usage';
  channel.moveTo({ context: args[2] as string });
  return reply('200 result=0');
}

function setExtension(args: string[], { channel }: AgiCommandContext): AgiCommandResult | 'usage' {
  if (args.length !== 3) return 'usage';
  channel.moveTo({ exten: args[2] as string });
  return reply('200 result=0');
}

function setPriority(args: string[], { channel, note }: AgiCommandContext): AgiCommandResult | 'usage' {
  if (args.length !== 3) return 'usage';
  const priority = leadingInteger(args[2]);
  if (priority === undefined || priority < 1) {
    note('simulator: priority labels are not simulated');
    return 'usage';
  }
  // ast_explicit_goto stores n - 1; the dialplan loop adds one when AGI() returns.
  channel.moveTo({ priority: priority - 1 });
  return reply('200 result=0');
}

/** res_agi 22 refuses a wrong argument count (older ones did not check). */
function setVariable(args: string[], { channel }: AgiCommandContext): AgiCommandResult | 'usage' {
  if (args.length !== 4) return 'usage';
  channel.setVariable(args[2] as string, args[3] as string);
  return reply('200 result=1');
}

function getVariable(args: string[], { channel }: AgiCommandContext): AgiCommandResult | 'usage' {
  if (args.length !== 3) return 'usage';
  const value = channel.getVariable(args[2] as string);
  return reply(value === undefined ? '200 result=0' : `200 result=1 (${value})`);
}

function verbose(args: string[]): AgiCommandResult | 'usage' {
  return args.length < 2 ? 'usage' : reply('200 result=1');
}

function getData(args: string[], { channel }: AgiCommandContext): AgiCommandResult | 'usage' {
  if (args.length < 3) return 'usage';
  const file = args[2] as string;
  const timeout = args.length >= 4 ? atoi(args[3]) : 0;
  const maxDigits = Math.min(args.length >= 5 ? atoi(args[4]) : 1024, 1024);
  const prompt = file === '' ? null : channel.sounds.durationMs(file);
  return blocking(new GetDataCommand(prompt, timeout, maxDigits));
}

function streamFile(args: string[], { channel }: AgiCommandContext): AgiCommandResult | 'usage' {
  if (args.length < 4 || args.length > 5) return 'usage';
  const offset = args.length === 5 ? leadingInteger(args[4]) : 0;
  if (offset === undefined) return 'usage';
  return blocking(new StreamFileCommand(channel.sounds.durationMs(args[2] as string), args[3] as string, offset));
}

/** EXEC <app> <data>: only argv[2] reaches the application (measured with MSet). */
function exec(args: string[], { channel, note }: AgiCommandContext): AgiCommandResult | 'usage' {
  if (args.length < 2) return 'usage';
  const app = args[1] as string;
  const data = args.length >= 3 ? (args[2] as string) : '';
  switch (app.toLowerCase()) {
    case 'noop':
    case 'verbose':
    case 'log':
      return reply('200 result=0');
    case 'set': {
      const eq = data.indexOf('=');
      if (eq > 0) channel.setVariable(data.slice(0, eq).trim(), data.slice(eq + 1));
      return reply('200 result=0');
    }
    case 'mset':
      for (const pair of splitAppArgs(data)) {
        const eq = pair.indexOf('=');
        if (eq > 0) channel.setVariable(pair.slice(0, eq).trim(), pair.slice(eq + 1));
      }
      return reply('200 result=0');
    case 'answer':
      channel.answered = true;
      return reply('200 result=0');
    case 'goto':
      return gotoApp(data, channel, note);
    case 'hangup':
      return reply('200 result=-1', { hangsUp: true });
    case 'playback':
      return blocking(new PlaybackCommand(channel, (splitAppArgs(data)[0] ?? '').split('&')));
    default:
      note(`simulator: no application ${app} (a real Asterisk may have one); answered -2`);
      return reply('200 result=-2');
  }
}

/** Goto([[context,]exten,]priority): an explicit goto, like SET CONTEXT/EXTENSION/PRIORITY. */
function gotoApp(data: string, channel: SimulatedChannel, note: (text: string) => void): AgiCommandResult {
  const parts = splitAppArgs(data).map((p) => p.trim());
  const priority = leadingInteger(parts[parts.length - 1]);
  if (parts.length > 3 || priority === undefined || priority < 1) {
    note('simulator: Goto needs [[context,]exten,]priority with a numeric priority');
    return reply('200 result=-1');
  }
  const [context, exten] = parts.length === 3 ? parts : parts.length === 2 ? [undefined, parts[0]] : [undefined, undefined];
  channel.moveTo({ priority: priority - 1, ...(context ? { context } : {}), ...(exten ? { exten } : {}) });
  return reply('200 result=0');
}
