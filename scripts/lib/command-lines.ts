/**
 * The far side of a FastAGI dialogue for the fuzzers: the server's command lines as they come
 * (a line may span chunks), and the reply Asterisk gives each (asterisk.md's table: SET VARIABLE
 * and VERBOSE answer 1, the commands the plugin sends otherwise 0).
 */
import type { Socket } from 'node:net';

/** Calls `onCommand` with each whole line the server writes on `socket` (read as latin1). */
export function onCommandLines(socket: Socket, onCommand: (line: string) => void): void {
  let pending = '';
  socket.setEncoding('latin1');
  socket.on('data', (text: string) => {
    pending += text;
    let newline: number;
    while ((newline = pending.indexOf('\n')) !== -1) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      onCommand(line);
    }
  });
}

export function asteriskReply(command: string): string {
  return command.startsWith('SET VARIABLE') || command.startsWith('VERBOSE') ? '200 result=1\n' : '200 result=0\n';
}
