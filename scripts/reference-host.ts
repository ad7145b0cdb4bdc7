/**
 * `npm start`: the reference host with the plugin loaded, ready to use with no set-up.
 * Configuration comes from the environment (see README "Configuration").
 */
import cluster from 'node:cluster';
import fs from 'node:fs';
import { z } from 'zod';
import { parseAmiUrl } from '../src/ami/ami-url';
import { startAgiWorkers } from '../src/call/agi-workers';
import type { CrmEgressPolicy, HostLogger } from '../src/host';
import { startReferenceHost } from './host/create-host';
import { describeHostDatabase, hostDataEnv, hostDialplanSigning, hostSecretKey, openHostDatabase, readEnv } from './host/host-data';

const env = hostDataEnv.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  AGI_PORT: z.coerce.number().int().min(0).max(65535).default(4573),
  AGI_BIND: z.string().default('127.0.0.1'),
  AGI_ALLOW: z.string().default(''),
  AGI_PUBLIC_HOST: z.string().optional(),
  AMI_URL: z.string().optional(),
  ADMIN_USER: z.string().min(1).default('admin'),
  ADMIN_PASSWORD: z.string().min(1).default('admin'),
  CRM_CA_FILE: z.string().optional(),
  PUBLIC_URL: z.string().optional(),
  CRM_EGRESS_ALLOW: z.string().default(''),
  /** Lets other machines read /metrics and /healthz with `Authorization: Bearer <token>`. */
  METRICS_TOKEN: z.string().min(16, 'METRICS_TOKEN must be at least 16 characters').optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** FastAGI (and web) worker processes sharing the ports (node:cluster); 1 runs everything in this process. */
  AGI_WORKERS: z.coerce.number().int().min(1).max(64).default(1),
}).refine((c) => c.AGI_WORKERS === 1 || c.DATABASE_URL !== undefined, { message: 'AGI_WORKERS above 1 needs DATABASE_URL (MySQL/MariaDB): several processes writing one SQLite file wait on its lock', path: ['AGI_WORKERS'] });

async function main(): Promise<void> {
  const config = readEnv(env);
  const logger = consoleLogger(config.LOG_LEVEL);
  const workers = await startAgiWorkers({ workers: config.AGI_WORKERS, logger, start: () => startHost(config, logger) });
  if (workers.primary) console.log(`CRM Routing: ${config.AGI_WORKERS} workers share the web and FastAGI ports (pids ${workers.pids().join(', ')})`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (!cluster.isWorker) console.log(`${signal}: stopping (calls in progress go to their default destination)...`);
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    await workers.stop();
    if (!cluster.isWorker) console.log('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

/** The reference host in this process (each worker's, with AGI_WORKERS above 1); what to stop. */
async function startHost(config: z.infer<typeof env>, logger: HostLogger): Promise<{ close(): Promise<void> }> {
  const db = openHostDatabase(config, logger);
  const host = await startReferenceHost({
    db,
    port: config.PORT,
    adminUser: config.ADMIN_USER,
    adminPassword: config.ADMIN_PASSWORD,
    secretKey: hostSecretKey(config),
    agi: {
      port: config.AGI_PORT,
      bind: config.AGI_BIND,
      allow: config.AGI_ALLOW.split(',').map((a) => a.trim()).filter(Boolean),
      publicHost: config.AGI_PUBLIC_HOST ?? config.AGI_BIND,
    },
    ami: config.AMI_URL ? parseAmiUrl(config.AMI_URL) : undefined,
    crmCa: config.CRM_CA_FILE ? fs.readFileSync(config.CRM_CA_FILE, 'utf8') : undefined,
    publicUrl: config.PUBLIC_URL,
    dialplanSigning: hostDialplanSigning(config),
    crmEgress: egressPolicyOf(config.CRM_EGRESS_ALLOW),
    metricsToken: config.METRICS_TOKEN,
    logger,
  });

  // Once per machine: by the only process, or by the first worker.
  if ((process.env.CRM_ROUTING_WORKER ?? '1') === '1') {
    console.log(`PBX Admin with CRM Routing is ready at ${host.url}`);
    console.log(`Sign in as ${config.ADMIN_USER} / ${process.env.ADMIN_PASSWORD ? '(ADMIN_PASSWORD)' : config.ADMIN_PASSWORD}`);
    console.log(`Database: ${describeHostDatabase(config)}`);
    const health = await host.plugin.health();
    console.log(`FastAGI: ${health.agi.listening ? `agi://${config.AGI_BIND}:${health.agi.port}/crm-routing?rule=<id>&tenant=<tenant>&sig=<signature> (the DIDs page gives each rule's line)` : 'not listening'}; AMI: ${config.AMI_URL ? 'from AMI_URL' : 'not configured (calls move with AGI alone)'}`);
    console.log(`Operators: ${host.url}/healthz and ${host.url}/metrics (from this machine${config.METRICS_TOKEN ? ', or with the bearer token METRICS_TOKEN' : ''})`);
  }
  return {
    async close() {
      await host.close();
      await db.destroy();
    },
  };
}

/** CRM_EGRESS_ALLOW: "loopback", "private" and addresses or CIDR ranges, comma-separated. */
function egressPolicyOf(text: string): CrmEgressPolicy {
  const entries = text.split(',').map((e) => e.trim()).filter(Boolean);
  return {
    allowLoopback: entries.includes('loopback'),
    allowPrivate: entries.includes('private'),
    allow: entries.filter((e) => e !== 'loopback' && e !== 'private'),
  };
}

function consoleLogger(level: string): HostLogger {
  const order = ['debug', 'info', 'warn', 'error'];
  const at = order.indexOf(level);
  // With AGI_WORKERS each line says which worker wrote it.
  const worker = process.env.CRM_ROUTING_WORKER ? ` [worker ${process.env.CRM_ROUTING_WORKER}]` : '';
  const line = (lvl: string) => (message: string, fields?: Record<string, unknown>) => {
    if (order.indexOf(lvl) < at) return;
    const out = lvl === 'error' || lvl === 'warn' ? console.error : console.log;
    out(`${new Date().toISOString()} ${lvl.toUpperCase()}${worker} ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
  };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error'), isDebugEnabled: () => at === 0 };
}

main().catch((err: unknown) => {
  console.error(`Could not start: ${(err as Error)?.stack ?? String(err)}`);
  process.exit(1);
});
