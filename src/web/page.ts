/**
 * Renders a plugin view inside the host's chrome. Views escape every value with <%= %>; the
 * only unescaped output is HTML the views produced themselves (partials, the body).
 */
import path from 'node:path';
import ejs from 'ejs';
import type { Request, Response } from 'express';
import type { HostLayout } from '../host';
import { PACKAGE_ROOT } from '../package-root';

export const VIEWS_DIR = path.join(PACKAGE_ROOT, 'views');

export interface PageRenderer {
  render(req: Request, res: Response, view: string, title: string, locals: Record<string, unknown>, status?: number): Promise<void>;
}

/** `localsFor` gives what every view needs: `base` (the plugin's mount path) and `csrfToken`. */
export function createPageRenderer(layout: HostLayout, localsFor: (req: Request, res: Response) => { base: string; csrfToken: string }): PageRenderer {
  const cache = process.env.NODE_ENV !== 'development';
  return {
    async render(req, res, view, title, locals, status = 200) {
      const common = localsFor(req, res);
      const html = await ejs.renderFile(path.join(VIEWS_DIR, `${view}.ejs`), { ...common, ...locals, title }, { cache });
      const body = `<link rel="stylesheet" href="${ejs.escapeXML(common.base)}/assets/crm-routing.css">\n${html}`;
      res.status(status).type('html').send(layout({ req, title, body }));
    },
  };
}
