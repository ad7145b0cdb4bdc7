/**
 * The plugin's settings: plugin.json's defaults, checked with zod, with the host's overrides
 * laid on top. Read once at register().
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { AgiSettings, HostContext } from './host';
import { PACKAGE_ROOT } from './package-root';

const limits = z.object({
  maxConcurrentCalls: z.number().int().min(1).max(100_000),
  /** Connections that have not sent their AGI header yet (AgiServer's maxPendingHeaders). */
  maxPendingHeaders: z.number().int().min(4).max(100_000),
  /** Time for Asterisk's header when the server is not under pressure (it takes about 1 ms). */
  headerTimeoutMs: z.number().int().min(100).max(60_000),
  headerBytes: z.number().int().min(512).max(65_536),
  headerLines: z.number().int().min(16).max(1024),
  commandTimeoutMs: z.number().int().min(100).max(60_000),
  idleTimeoutMs: z.number().int().min(1000).max(600_000),
  stopTimeoutMs: z.number().int().min(0).max(60_000),
});

const manifest = z.object({
  id: z.string(),
  entry: z.string(),
  licenseFeature: z.string(),
  menu: z.array(z.object({ section: z.string(), label: z.string(), path: z.string().startsWith('/') })),
  migrationsTable: z.string(),
  tablePrefix: z.string().regex(/^[a-z][a-z0-9_]{0,30}$/),
  agiPath: z.string().regex(/^[a-z0-9-]+$/),
  defaults: z.object({
    agi: z.object({ port: z.number().int().min(0).max(65535), bind: z.string(), allow: z.array(z.string()), publicHost: z.string() }),
    limits,
    deadlineSeconds: z.number().int().min(1).max(10),
    lookupCacheTtlSeconds: z.number().int().min(0).max(3600),
    decisionRetentionDays: z.number().int().min(1).max(3650),
  }),
});

export type PluginManifest = z.infer<typeof manifest>;
export type CallLimits = z.infer<typeof limits>;

export interface PluginConfig {
  manifest: PluginManifest;
  agi: AgiSettings;
  limits: CallLimits;
  tablePrefix: string;
  lookupCacheTtlSeconds: number;
  decisionRetentionDays: number;
}

export function readManifest(file = path.join(PACKAGE_ROOT, 'plugin.json')): PluginManifest {
  return manifest.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
}

const agiOverrides = z.object({
  port: z.number().int().min(0).max(65535).optional(),
  bind: z.string().min(1).optional(),
  allow: z.array(z.string().min(1)).optional(),
  publicHost: z.string().regex(/^[A-Za-z0-9.:[\]-]+$/, 'publicHost must be a host name or address').optional(),
});

const cacheTtl = z.number({ message: 'lookupCacheTtlSeconds must be a number of seconds' }).int().min(0).max(3600);

export function pluginConfig(host: Pick<HostContext, 'agi' | 'tablePrefix'>, overrides: Partial<CallLimits> = {}, lookupCacheTtlSeconds?: number): PluginConfig {
  const m = readManifest();
  const agi = agiOverrides.parse(host.agi ?? {});
  return {
    manifest: m,
    agi: { ...m.defaults.agi, ...stripUndefined(agi) },
    limits: limits.parse({ ...m.defaults.limits, ...overrides }),
    tablePrefix: host.tablePrefix ?? m.tablePrefix,
    lookupCacheTtlSeconds: lookupCacheTtlSeconds === undefined ? m.defaults.lookupCacheTtlSeconds : cacheTtl.parse(lookupCacheTtlSeconds),
    decisionRetentionDays: m.defaults.decisionRetentionDays,
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
