/**
 * Types for the npm package `ding-dong` 0.1.7 (devDependency, bench:agi's peer), which ships
 * none; declared from its lib/index.js and lib/context.js, only what the benchmark uses.
 */
declare module 'ding-dong' {
  import type { EventEmitter } from 'node:events';
  import type { Server } from 'node:net';

  namespace AgiServer {
    interface AgiReply {
      code: number;
      result: string;
      value?: string;
    }
    /** One call: `variables` once the header is read, each command resolves with the reply line. */
    interface Context extends EventEmitter {
      onEvent(event: 'variables'): Promise<Record<string, string>>;
      setVariable(name: string, value: string): Promise<AgiReply>;
      exec(application: string, ...args: string[]): Promise<AgiReply>;
      setContext(context: string): Promise<AgiReply>;
      setExtension(extension: string): Promise<AgiReply>;
      setPriority(priority: string): Promise<AgiReply>;
      end(): Promise<void>;
    }
  }
  /** `port` 0 is taken as "unset" (3000): give a real one. */
  function AgiServer(handler: (context: AgiServer.Context) => void, options?: { port?: number; debug?: boolean }): { start(port: number, host?: string): Server };
  export = AgiServer;
}
