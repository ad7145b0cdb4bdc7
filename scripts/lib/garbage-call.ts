/**
 * A FastAGI peer that floods the session with lines that are no reply, for garbage:agi and the
 * bounded-logging test.
 */
import { connect } from 'node:net';
import { formatAgiHeader } from './agi-header';
import { asteriskReply, onCommandLines } from './command-lines';

/**
 * A valid call that sends `garbage` lines that are no reply right after its header (in chunks, as
 * a socket carries them), then answers every command as Asterisk does; resolves with the context
 * it was moved to by SET CONTEXT ('' when it was not).
 */
export function garbageCall(port: number, script: string, garbage: number, n = 0): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    let moved = '';
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      socket.write(formatAgiHeader({
        request: `agi://127.0.0.1:${port}/${script}`, script, channel: `Local/5551234@from-did-${n.toString(16).padStart(8, '0')};2`,
        language: 'en', type: 'Local', uniqueid: `1795556051.${n}`, version: '22.10.1', callerId: '+15550001111', callerName: 'Garbage', context: 'from-did',
        extension: '5551234', priority: 2, accountcode: '', threadId: '1', args: [],
      }));
      // In chunks, as a socket would carry them.
      const line = 'this is not an AGI reply\n';
      for (let sent = 0; sent < garbage; sent += 1000) socket.write(line.repeat(Math.min(1000, garbage - sent)));
    });
    onCommandLines(socket, (command) => {
      if (command.startsWith('SET CONTEXT')) moved = command.slice(12).replace(/"/g, '');
      socket.write(asteriskReply(command));
    });
    socket.once('end', () => socket.end('HANGUP\n'));
    socket.once('close', () => resolve(moved));
  });
}
