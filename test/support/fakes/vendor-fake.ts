/**
 * What every single-server vendor fake shares: its FakeHttpsServer, the requests it recorded,
 * the violations it saw (requests the vendor would refuse; each test expects none), a hook a
 * test sets to answer before the vendor's checks, and closing. A fake says only what its vendor
 * checks and answers, in `handle`.
 */
import { FakeHttpsServer, type FakeReply, type RecordedRequest } from '../fake-https';

export abstract class VendorFake {
  /** Requests the vendor would refuse; a fake with more sources (a consent page) adds them in `violations`. */
  protected readonly ownViolations: string[] = [];
  /** Answers before the vendor's checks when it returns a reply (429, 500, a delay...). */
  intercept?: (req: RecordedRequest) => FakeReply | undefined;

  protected constructor(readonly server: FakeHttpsServer) {}

  /** Starts a fake on its own HTTPS server (port 0, a certificate from the test CA). */
  protected static async serve<F extends VendorFake>(create: (server: FakeHttpsServer) => F): Promise<F> {
    let fake: F | undefined;
    const server = await FakeHttpsServer.start((req) => fake!.dispatch(req));
    fake = create(server);
    return fake;
  }

  /** Requests the vendor would refuse; each test expects none. */
  get violations(): string[] {
    return this.ownViolations;
  }

  get url(): string {
    return this.server.url;
  }

  get requests(): RecordedRequest[] {
    return this.server.requests;
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /** The vendor's own checks and answers. */
  protected abstract handle(req: RecordedRequest): FakeReply | Promise<FakeReply>;

  private dispatch(req: RecordedRequest): FakeReply | Promise<FakeReply> {
    return this.intercept?.(req) ?? this.handle(req);
  }
}

/** Replies a test queues for the next request that matches, each used once. */
export class ScriptedReplies<R extends RecordedRequest = RecordedRequest> {
  private readonly queue: Array<{ when: (req: R) => boolean; reply: FakeReply }> = [];

  add(when: (req: R) => boolean, reply: FakeReply): void {
    this.queue.push({ when, reply });
  }

  /** The first queued reply whose test `req` passes, taken off the queue. */
  take(req: R): FakeReply | undefined {
    const index = this.queue.findIndex((s) => s.when(req));
    return index >= 0 ? this.queue.splice(index, 1)[0]!.reply : undefined;
  }
}
