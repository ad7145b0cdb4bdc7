/**
 * Types for the npm package `asterisk-manager` 0.2.0, which ships none. Declared from what
 * lib/ami.js does, not from its README. Its quirks, which src/ami/ami-session.ts works around:
 * - `login()` sends `Event: on|off`; Asterisk reads `Events`, so the flag never reaches it.
 * - Actions sent before login succeeds are held and sent after it, however late.
 * - Header lines of an action are sorted; names are lower-cased then capitalised (`Eventmask`).
 * - ActionIDs are `Date.now()` strings unless the action carries its own `actionid`.
 * - `keepConnected()` reconnects after 10-60 s and writes to console.log.
 * - The socket is private; `disconnect()` leaves a socket that is still connecting alive.
 * - AMI events are re-emitted under their lower-cased name, so an event called `Close` would
 *   look like the connection's own `close`.
 */
declare module 'asterisk-manager' {
  namespace AsteriskManager {
    /**
     * One parsed AMI message. Header names are lower-cased; a repeated header becomes an array;
     * `Variable`/`ChanVariable` headers become a name -> value object.
     */
    interface AmiMessage {
      response?: string;
      actionid?: string;
      message?: string;
      event?: string;
      /** Only on `Response: Follows` answers: the lines, joined with "\n". */
      content?: string;
      [header: string]: string | string[] | Record<string, string> | undefined;
    }

    type ActionValue = string | number | boolean | null | undefined | Array<string | number> | Record<string, string | number>;

    /** `action` names the AMI action; every other key becomes one header. */
    interface ActionFields {
      action: string;
      /** Replaces the library's Date-based ActionID. */
      actionid?: string;
      [header: string]: ActionValue;
    }

    /** `err` is the whole answer when Asterisk replied `Response: Error`, else undefined. */
    type ActionCallback = (err: AmiMessage | undefined, response: AmiMessage) => void;

    interface ManagerOptions {
      port: number | undefined;
      host: string;
      username: string;
      password: string;
      events: boolean;
    }

    interface Manager {
      readonly options: ManagerOptions;
      /** Opens the TCP connection; `callback` runs on the socket's first `connect`. */
      connect(port: number, host: string, callback?: (err: null) => void): void;
      /** Sends Login with the constructor's credentials; `err` is the Error answer. */
      login(callback?: (err?: AmiMessage) => void): void;
      /** Sends (or, before login, holds) an action; returns the ActionID used. */
      action(fields: ActionFields, callback?: ActionCallback): string;
      disconnect(callback?: () => void): void;
      keepConnected(): void;
      isConnected(): boolean | undefined;
      connected(): boolean | undefined;
      // The event methods are bound to a hidden EventEmitter and return it, not the Manager.
      on(event: string, listener: (...args: any[]) => void): unknown;
      once(event: string, listener: (...args: any[]) => void): unknown;
      addListener(event: string, listener: (...args: any[]) => void): unknown;
      removeListener(event: string, listener: (...args: any[]) => void): unknown;
      removeAllListeners(event?: string): unknown;
      listeners(event: string): Array<(...args: any[]) => void>;
      setMaxListeners(n: number): unknown;
      emit(event: string, ...args: unknown[]): boolean;
    }
  }

  /** Connects at once when `port` is given (and logs in when `username` is); else waits for `connect()`. */
  function AsteriskManager(
    port?: number,
    host?: string,
    username?: string,
    password?: string,
    events?: boolean,
  ): AsteriskManager.Manager;

  export = AsteriskManager;
}
