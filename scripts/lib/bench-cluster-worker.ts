/**
 * One node:cluster worker of bench:agi's workers phase (bench-cluster.ts): the plugin's call path
 * (startBenchCallPath, AGI path, the rule's Custom CRM over HTTPS) on the SQLite file its
 * siblings share, listening on the port they share; says `ready` with it, stops on `stop`.
 */
import cluster from 'node:cluster';
import { startBenchCallPath } from './bench-call-path';
import { FormattingLogger } from './formatting-logger';

if (!cluster.isWorker || !process.send) throw new Error('bench-cluster-worker runs as a cluster worker of bench:agi (scripts/lib/bench-cluster.ts).');

async function main(): Promise<void> {
  const env = process.env;
  const path = await startBenchCallPath({
    logger: new FormattingLogger('info'), customUrl: env.BENCH_CRM_URL, crmCa: env.BENCH_CRM_CA,
    shared: { file: env.BENCH_DB!, secretKey: env.BENCH_SECRET! }, agiPort: Number(env.BENCH_AGI_PORT),
  });
  process.on('message', (message: unknown) => {
    if (message === 'stop') void path.callPath.stop().finally(() => process.exit(0));
  });
  process.send!({ benchReady: true, port: path.port });
}

main().catch((err: unknown) => {
  console.error(`bench cluster worker failed: ${(err as Error)?.stack ?? String(err)}`);
  process.exit(1);
});
