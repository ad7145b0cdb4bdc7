/**
 * The reference host's one error handler. The browser never sees a stack trace: a failure gets
 * an id to quote, and the log has the id with the whole error. A database that cannot be reached
 * answers 503 "the database is not reachable; nothing was changed"; what the request itself got
 * wrong (a bad form, a stale CSRF token, a body too large) keeps its 4xx.
 */
import { randomBytes } from 'node:crypto';
import type { ErrorRequestHandler, Request, Response } from 'express';
import type { HostLogger } from '../../src/host';
import { DATABASE_UNREACHABLE_MESSAGE, isDatabaseUnreachable } from '../../src/store/database-unreachable';
import { CSRF_FAILED_MESSAGE } from '../../src/web/csrf';

export type ErrorPage = (req: Request, res: Response, page: { title: string; message: string; errorId?: string }, status: number) => Promise<void>;

export function hostErrorHandler(logger: HostLogger, render: ErrorPage): ErrorRequestHandler {
  return async (err, req, res, _next) => {
    if (res.headersSent) return void res.end();
    const e = err as { code?: string; status?: number; statusCode?: number; type?: string };
    const given = e.status ?? e.statusCode;
    let status: number;
    let title: string;
    let message: string;
    let errorId: string | undefined;
    if (isDatabaseUnreachable(err)) {
      status = 503;
      title = 'Database not reachable';
      message = DATABASE_UNREACHABLE_MESSAGE;
      logger.warn('Page answered 503: the database is not reachable', { path: req.path, error: (err as Error)?.message ?? String(err) });
    } else if (e.code === 'EBADCSRFTOKEN') {
      status = 403;
      title = 'Forbidden';
      message = CSRF_FAILED_MESSAGE;
    } else if (given !== undefined && given >= 400 && given < 500) {
      status = given;
      title = 'Request not accepted';
      message = status === 413 ? 'The form is too large; nothing was changed.' : 'The request could not be read; nothing was changed.';
    } else {
      status = 500;
      title = 'Error';
      errorId = randomBytes(4).toString('hex');
      message = `Something went wrong; nothing was changed. If it happens again, tell your administrator the error id ${errorId}.`;
      logger.error('Page failed', { errorId, path: req.path, error: (err as Error)?.stack ?? String(err) });
    }
    try {
      await render(req, res, { title, message, ...(errorId ? { errorId } : {}) }, status);
    } catch {
      if (!res.headersSent) res.status(status).type('text').send(message);
    }
  };
}
