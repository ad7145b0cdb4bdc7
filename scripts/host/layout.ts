/** The reference host's chrome: a header, the menu (plugin entries included) and the page. */
import ejs from 'ejs';
import type { Request } from 'express';
import type { LayoutPage, MenuEntry } from '../../src/host';

export interface Chrome {
  menu: MenuEntry[];
  isLicensed: (feature: string) => boolean;
  userName: (req: Request) => string | undefined;
  /** CSRF token for the logout form. */
  logoutToken: (req: Request) => string;
}

const esc = ejs.escapeXML;

export function renderLayout(chrome: Chrome, page: LayoutPage): string {
  const user = chrome.userName(page.req);
  const sections = new Map<string, MenuEntry[]>();
  for (const entry of chrome.menu) sections.set(entry.section, [...(sections.get(entry.section) ?? []), entry]);
  const pluginMenu = [...sections].map(([section, entries]) => {
    const licensed = entries.every((e) => chrome.isLicensed(e.feature));
    const items = entries.map((e) => `<li><a href="${esc(e.href)}">${esc(e.label)}</a></li>`).join('');
    const mark = licensed ? '' : ' <span class="host-unlicensed">(not licensed)</span>';
    return `<li class="host-menu-section${licensed ? '' : ' host-menu-unlicensed'}"><span>${esc(section)}${mark}</span><ul>${items}</ul></li>`;
  }).join('');
  const nav = user
    ? `<nav class="host-menu" aria-label="Main menu"><ul>
        <li><a href="/">Home</a></li><li><a href="/dids">DIDs</a></li><li><a href="/ivrs">IVRs</a></li>${pluginMenu}<li><a href="/license">License</a></li>
      </ul></nav>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(page.title)} - PBX Admin</title><link rel="icon" href="/favicon.svg" type="image/svg+xml"><link rel="stylesheet" href="/host.css"></head>
<body><header class="host-header"><strong>PBX Admin</strong>${user ? `<span>Signed in as ${esc(user)}</span><form method="post" action="/logout" class="host-inline"><input type="hidden" name="_csrf" value="${esc(chrome.logoutToken(page.req))}"><button type="submit">Log out</button></form>` : ''}</header>
<div class="host-body">${nav}<main class="host-main">${page.body}</main></div></body></html>`;
}
