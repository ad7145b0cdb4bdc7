/**
 * The setup guides, served by the plugin itself (no external site): GET /integration/guides/{slug}.
 * Linked from each CRM's section of CRM > Integration and from the strip of CRM names above them.
 */
import { Router } from 'express';
import { GUIDES_AS_OF, SETUP_GUIDES } from './setup-guides';
import type { PageRenderer } from './page';

export function guideRoutes(pages: PageRenderer): Router {
  const router = Router();
  router.get('/:slug', async (req, res) => {
    const guide = SETUP_GUIDES.get(String(req.params.slug));
    if (!guide) return pages.render(req, res, 'error', 'No such guide', { message: 'There is no setup guide by that name: open one from CRM > Integration.' }, 404);
    await pages.render(req, res, 'integration/guide', `Setup guide: ${guide.title}`, { guide, asOf: GUIDES_AS_OF });
  });
  return router;
}
