/**
 * All cores for the FastAGI endpoint: `startAgiWorkers` runs the host's own start-up (which
 * calls `register()`) in `workers` node:cluster worker processes that share the FastAGI port (and
 * the host's web port): the primary accepts the connections and hands them out round-robin.
 *
 * In the primary it forks the first worker and waits until it is up, so the plugin's migrations
 * (and the host's own set-up) run once, then forks the others; passes each worker's "rules /
 * integrations changed" notice to the others (sibling-notices.ts); starts a worker again when one
 * dies; and on `stop()` asks every worker to stop (calls in progress go to their default
 * destination) and waits for them. In a worker it runs `start` and reports back. With `workers`
 * of 1 nothing is forked: `start` runs in this process.
 *
 * Shared through the database, so correct across workers and nodes: rules and integrations (the
 * cache-version row, polled every 2 s, a notice makes it at once), CRM sign-in state of CRMs with
 * single-use or rotating refresh tokens (token-state rows with a row lock), decisions, the web
 * sessions of the host. Per process: the CRM lookup cache, connection pools to CRMs and the
 * database, field lists, the AMI connection, and the call limits (plugin.json's
 * maxConcurrentCalls is per worker).
 */
import cluster, { type Worker } from 'node:cluster';
import type { HostLogger } from '../host';
import { isSiblingNotice } from './sibling-notices';

export interface AgiWorkersOptions {
  /** Worker processes; 1 runs `start` in this process. Usually the number of cores (os.availableParallelism()). */
  workers: number;
  /**
   * The host's start-up, run in every worker: opens its database, calls `register()`, listens on
   * its ports. Resolves with how to stop it.
   */
  start: () => Promise<{ close(): Promise<void> }>;
  /** The primary's log (worker starts, exits, restarts). */
  logger: HostLogger;
  /** Start a worker again after it exits unexpectedly, this long after (ms). Default 1,000; 0 never. */
  restartDelayMs?: number;
  /** How long `stop()` waits for the workers before killing them (ms). Default 15,000. */
  stopTimeoutMs?: number;
}

export interface AgiWorkers {
  /** True in the primary (which runs no plugin itself), false in a worker or with one worker. */
  primary: boolean;
  /** Primary: the live workers' process ids. */
  pids(): number[];
  /** Stops every worker (primary) or this process's host (worker, or one worker). */
  stop(): Promise<void>;
}

/** Messages between the primary and its workers (besides sibling notices). */
type Control = { crmRoutingWorker: 'ready' } | { crmRoutingWorker: 'failed'; error: string } | { crmRoutingWorker: 'stop' };

export async function startAgiWorkers(options: AgiWorkersOptions): Promise<AgiWorkers> {
  if (!Number.isInteger(options.workers) || options.workers < 1) throw new Error(`startAgiWorkers: workers must be a whole number of at least 1 (got ${options.workers}).`);
  if (cluster.isWorker) return runWorker(options);
  if (options.workers === 1) {
    const host = await options.start();
    return { primary: false, pids: () => [process.pid], stop: () => host.close() };
  }
  return runPrimary(options);
}

async function runWorker(options: AgiWorkersOptions): Promise<AgiWorkers> {
  let host: { close(): Promise<void> };
  try {
    host = await options.start();
  } catch (err) {
    process.send?.({ crmRoutingWorker: 'failed', error: (err as Error)?.message ?? String(err) } satisfies Control);
    throw err;
  }
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= host.close());
  process.on('message', (message: Control) => {
    if (message?.crmRoutingWorker === 'stop') void stop().finally(() => process.exit(0));
  });
  process.send?.({ crmRoutingWorker: 'ready' } satisfies Control);
  return { primary: false, pids: () => [process.pid], stop };
}

async function runPrimary(options: AgiWorkersOptions): Promise<AgiWorkers> {
  const { logger } = options;
  const restartDelayMs = options.restartDelayMs ?? 1000;
  const live = new Set<Worker>();
  let stopping = false;

  // A worker's notice goes to every other worker.
  cluster.on('message', (from, message: unknown) => {
    if (!isSiblingNotice(message)) return;
    for (const worker of live) if (worker !== from && worker.isConnected()) worker.send(message);
  });

  const fork = (index: number): Promise<Worker> => new Promise((resolve, reject) => {
    const worker = cluster.fork({ CRM_ROUTING_WORKER: String(index) });
    let ready = false;
    worker.on('message', (message: Control) => {
      if (message?.crmRoutingWorker === 'ready') {
        ready = true;
        live.add(worker);
        logger.info('CRM Routing worker started', { worker: index, pid: worker.process.pid });
        resolve(worker);
      } else if (message?.crmRoutingWorker === 'failed') {
        reject(new Error(`Worker ${index} could not start: ${message.error}`));
      }
    });
    worker.on('exit', (code, signal) => {
      live.delete(worker);
      if (!ready) {
        reject(new Error(`Worker ${index} exited before it was ready (code ${code ?? signal}).`));
        return;
      }
      if (stopping) return;
      logger.error('CRM Routing worker exited; starting it again', { worker: index, code, signal, restartInMs: restartDelayMs });
      if (restartDelayMs > 0) {
        setTimeout(() => {
          if (!stopping) fork(index).catch((err: Error) => logger.error('CRM Routing worker did not start again', { worker: index, error: err.message }));
        }, restartDelayMs).unref();
      }
    });
  });

  try {
    // The first alone: it runs the migrations; the others then find the schema up to date.
    await fork(1);
    await Promise.all(Array.from({ length: options.workers - 1 }, (_, i) => fork(i + 2)));
  } catch (err) {
    stopping = true;
    for (const worker of live) worker.kill();
    throw err;
  }

  return {
    primary: true,
    pids: () => [...live].map((worker) => worker.process.pid!).filter(Boolean),
    async stop() {
      stopping = true;
      const workers = [...live];
      await Promise.all(workers.map((worker) => new Promise<void>((resolve) => {
        if (worker.isDead()) return resolve();
        const timer = setTimeout(() => worker.kill('SIGKILL'), options.stopTimeoutMs ?? 15_000);
        worker.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        if (worker.isConnected()) worker.send({ crmRoutingWorker: 'stop' } satisfies Control);
        else worker.kill();
      })));
    },
  };
}
