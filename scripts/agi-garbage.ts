/**
 * `npm run garbage:agi -- [--lines 100000] [--sessions 1000]`
 *
 * Log lines written when Asterisk's side sends lines that are no reply: one call whose peer
 * sends `--lines` garbage lines while its CRM lookup runs (the call is still routed), then
 * `--sessions` calls at once each sending 100 (the rate limit across sessions). Counted are the
 * lines a host logger at info writes, and their bytes. The plugin's call path runs with
 * plugin.json's limits and an in-process CRM answering after 500 ms.
 */
import { parseArgs } from 'node:util';
import { startBenchCallPath } from './lib/bench-call-path';
import { describeMachine } from './lib/bench-stats';
import { FormattingLogger } from './lib/formatting-logger';
import { garbageCall } from './lib/garbage-call';
import { StubCrm } from './lib/stub-crm';

const MB = 2 ** 20;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { lines: { type: 'string' }, sessions: { type: 'string' } } });
  const lines = Number(values.lines ?? 100_000);
  const sessions = Number(values.sessions ?? 1000);
  if (!Number.isSafeInteger(lines) || lines < 1 || !Number.isSafeInteger(sessions) || sessions < 1) throw new Error('--lines and --sessions are whole numbers.');
  console.log('garbage:agi: log lines written when the peer sends lines that are no reply');
  console.log(`Machine: ${describeMachine()}`);
  for (const [label, calls, each] of [[`1 call sending ${lines.toLocaleString('en')} garbage lines`, 1, lines], [`${sessions} calls at once, 100 garbage lines each`, sessions, 100]] as const) {
    const logger = new FormattingLogger('info');
    const path = await startBenchCallPath({ logger, stub: new StubCrm(500) });
    try {
      const moved = await Promise.all(Array.from({ length: calls }, (_, n) => garbageCall(path.port, path.script, each, n)));
      // The "suppressed N" lines come when the rate limit's window ends: stop() writes them.
      await path.stop();
      const total = logger.lines.info + logger.lines.warn + logger.lines.error;
      const routed = moved.filter((m) => m === path.expected.context).length;
      console.log(`\n${label}: ${(calls * each).toLocaleString('en')} garbage lines sent; ${routed} of ${calls} calls routed`);
      console.log(`  log lines written at info and above: ${total} (${logger.lines.warn} warn, ${logger.lines.error} error, ${logger.lines.info} info), ${(logger.bytes / MB).toFixed(2)} MB`);
      for (const problem of logger.problems.slice(0, 3)) console.log(`  e.g. ${problem.slice(0, 200)}`);
    } finally {
      await path.stop().catch(() => undefined);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
