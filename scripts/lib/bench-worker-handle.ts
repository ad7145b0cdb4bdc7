/**
 * The benchmark's side of a bench-worker.ts process: fork it, ask it to run AGI load or to
 * start a fake CRM, and get the answer back over IPC.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { AgiLoadOptions, AgiLoadResult } from './agi-load-client';
import type { AgiFuzzOptions, AgiFuzzResult } from './agi-fuzz-streams';
import type { SilentOptions, SilentStats } from './silent-connections';

export type WorkerRequest =
  | { id: number; kind: 'load'; options: AgiLoadOptions }
  | { id: number; kind: 'crm-start' }
  | { id: number; kind: 'crm-delay'; delayMs: number }
  | { id: number; kind: 'ami-start' }
  | { id: number; kind: 'silent-start'; options: SilentOptions }
  | { id: number; kind: 'silent-stats' }
  | { id: number; kind: 'silent-stop' }
  | { id: number; kind: 'agi-fuzz'; options: AgiFuzzOptions };

export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export interface LoadReply {
  result: AgiLoadResult;
  /** CPU time the worker spent (user + system) during the load, in ms. */
  cpuMs: number;
}

export interface CrmStarted {
  /** The Custom CRM URL to put in a rule. */
  url: string;
  /** The CA that signed its certificate (the host's crmCa). */
  caPem: string;
}

/** The fake AMI's address and login (the host's `ami` settings). */
export interface AmiStarted {
  host: string;
  port: number;
  username: string;
  secret: string;
}

type Request = WorkerRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class BenchWorker {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();

  private constructor(private readonly child: ChildProcess, readonly name: string) {
    child.on('message', (reply: WorkerReply) => {
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (reply.ok) waiter?.resolve(reply.value);
      else waiter?.reject(new Error(`${name} worker: ${reply.error}`));
    });
    child.on('exit', (code) => {
      for (const waiter of this.waiting.values()) waiter.reject(new Error(`${name} worker exited (code ${code})`));
      this.waiting.clear();
    });
  }

  /** Forked with this process's exec arguments, so it runs under tsx like the benchmark. */
  static start(name: string): BenchWorker {
    // The same extension as this file: .ts under tsx, .js when the scripts are compiled.
    return new BenchWorker(fork(path.join(__dirname, `bench-worker${path.extname(__filename)}`), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }), name);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  load(options: AgiLoadOptions): Promise<LoadReply> {
    return this.ask({ kind: 'load', options }) as Promise<LoadReply>;
  }

  startCrm(): Promise<CrmStarted> {
    return this.ask({ kind: 'crm-start' }) as Promise<CrmStarted>;
  }

  /** Resolves with the requests the fake CRM has answered so far. */
  setCrmDelay(delayMs: number): Promise<number> {
    return this.ask({ kind: 'crm-delay', delayMs }) as Promise<number>;
  }

  /** Starts a fake AMI that answers every Redirect `Success` at once (no channel is checked). */
  startAmi(): Promise<AmiStarted> {
    return this.ask({ kind: 'ami-start' }) as Promise<AmiStarted>;
  }

  /** Opens `options.count` connections that never send anything, reopening each the server closes. */
  startSilent(options: SilentOptions): Promise<SilentStats> {
    return this.ask({ kind: 'silent-start', options }) as Promise<SilentStats>;
  }

  silentStats(): Promise<SilentStats> {
    return this.ask({ kind: 'silent-stats' }) as Promise<SilentStats>;
  }

  stopSilent(): Promise<SilentStats> {
    return this.ask({ kind: 'silent-stop' }) as Promise<SilentStats>;
  }

  /** Fuzzed FastAGI streams (agi-fuzz-streams.ts) from the worker's process. */
  fuzzAgi(options: AgiFuzzOptions): Promise<AgiFuzzResult> {
    return this.ask({ kind: 'agi-fuzz', options }) as Promise<AgiFuzzResult>;
  }

  stop(): void {
    this.child.kill();
  }

  private ask(request: Request): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ ...request, id });
    });
  }
}

export type { AgiFuzzResult, AgiLoadResult, SilentStats };
