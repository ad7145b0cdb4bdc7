/**
 * `npm start`: the reference host with the plugin loaded, ready to use with no set-up.
 * Configuration comes from the environment (see README "Configuration").
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import knex, { type Knex } from 'knex';
import { z } from 'zod';
import { parseAmiUrl } from '../src/ami/ami-url';
import type { HostLogger } from '../src/host';
import { startReferenceHost } from './host/create-host';

const env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.string().regex(/^mysql:\/\//, 'DATABASE_URL must be a mysql://user:password@host:port/database URL').optional(),
  DATA_DIR: z.string().default('data'),
  AGI_PORT: z.coerce.number().int().min(0).max(65535).default(4573),
  AGI_BIND: z.string().default('127.0.0.1'),
  AGI_ALLOW: z.string().default(''),
  AGI_PUBLIC_HOST: z.string().optional(),
  AMI_URL: z.string().optional(),
  ADMIN_USER: z.string().min(1).default('admin'),
  ADMIN_PASSWORD: z.string().min(1).default('admin'),
  SECRET_KEY: z.string().min(32, 'SECRET_KEY must be at least 32 characters').optional(),
  CRM_CA_FILE: z.string().optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

async function main(): Promise<void> {
  const parsed = env.safeParse(process.env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) console.error(`Configuration: ${issue.path.join('.')}: ${issue.message}`);
    process.exit(2);
  }
  const config = parsed.data;
  const logger = consoleLogger(config.LOG_LEVEL);
  fs.mkdirSync(config.DATA_DIR, { recursive: true });
  const db = openDatabase(config.DATABASE_URL, config.DATA_DIR);
  const host = await startReferenceHost({
    db,
    port: config.PORT,
    adminUser: config.ADMIN_USER,
    adminPassword: config.ADMIN_PASSWORD,
    secretKey: config.SECRET_KEY ?? dataDirSecret(config.DATA_DIR),
    agi: {
      port: config.AGI_PORT,
      bind: config.AGI_BIND,
      allow: config.AGI_ALLOW.split(',').map((a) => a.trim()).filter(Boolean),
      publicHost: config.AGI_PUBLIC_HOST ?? config.AGI_BIND,
    },
    ami: config.AMI_URL ? parseAmiUrl(config.AMI_URL) : undefined,
    crmCa: config.CRM_CA_FILE ? fs.readFileSync(config.CRM_CA_FILE, 'utf8') : undefined,
    logger,
  });

  console.log(`PBX Admin with CRM Routing is ready at ${host.url}`);
  console.log(`Sign in as ${config.ADMIN_USER} / ${process.env.ADMIN_PASSWORD ? '(ADMIN_PASSWORD)' : config.ADMIN_PASSWORD}`);
  console.log(`Database: ${config.DATABASE_URL ? 'MySQL (DATABASE_URL)' : `SQLite file ${path.join(config.DATA_DIR, 'pbx.sqlite')}`}`);
  const health = host.plugin.health();
  console.log(`FastAGI: ${health.agi.listening ? `agi://${config.AGI_BIND}:${health.agi.port}/crm-routing?rule=<id>` : 'not listening'}; AMI: ${config.AMI_URL ? 'from AMI_URL' : 'not configured (calls move with AGI alone)'}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping (calls in progress go to their default destination)...`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await host.close();
    await db.destroy();
    console.log('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

function openDatabase(url: string | undefined, dataDir: string): Knex {
  if (url) return knex({ client: 'mysql2', connection: url, pool: { min: 0, max: 10 } });
  return knex({ client: 'better-sqlite3', connection: { filename: path.join(dataDir, 'pbx.sqlite') }, useNullAsDefault: true });
}

/** Without SECRET_KEY the demo keeps a random key in the data folder, so sealed secrets survive restarts. */
function dataDirSecret(dataDir: string): string {
  const file = path.join(dataDir, 'secret.key');
  if (!fs.existsSync(file)) fs.writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  return fs.readFileSync(file, 'utf8').trim();
}

function consoleLogger(level: string): HostLogger {
  const order = ['debug', 'info', 'warn', 'error'];
  const at = order.indexOf(level);
  const line = (lvl: string) => (message: string, fields?: Record<string, unknown>) => {
    if (order.indexOf(lvl) < at) return;
    const out = lvl === 'error' || lvl === 'warn' ? console.error : console.log;
    out(`${new Date().toISOString()} ${lvl.toUpperCase()} ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`);
  };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

main().catch((err: unknown) => {
  console.error(`Could not start: ${(err as Error)?.stack ?? String(err)}`);
  process.exit(1);
});
