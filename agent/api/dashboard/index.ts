/**
 * The dashboard: one HTML page, its stylesheet, its script and its icon, served
 * by the API at these paths. Separate files because the API sends
 * `Content-Security-Policy: default-src 'self'` (no inline script or style).
 * The page reads the JSON endpoints and the event stream of docs/api.md.
 */
import { faviconSvg } from './icon.js';
import { dashboardHtml } from './page.js';
import { dashboardJs } from './script.js';
import { dashboardCss } from './style.js';

export interface Asset {
  contentType: string;
  body: string;
}

export const dashboardAssets: Readonly<Record<string, Asset>> = {
  '/': { contentType: 'text/html; charset=utf-8', body: dashboardHtml },
  '/dashboard.js': { contentType: 'text/javascript; charset=utf-8', body: dashboardJs },
  '/dashboard.css': { contentType: 'text/css; charset=utf-8', body: dashboardCss },
  '/favicon.svg': { contentType: 'image/svg+xml', body: faviconSvg },
};
