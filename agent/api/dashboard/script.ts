/**
 * /dashboard.js: the three parts of the browser code in one strict-mode
 * function scope (no globals leak into the page).
 */
import { formatJs } from './script-format.js';
import { liveJs } from './script-live.js';
import { renderJs } from './script-render.js';

export const dashboardJs = ['(() => {', "'use strict';", formatJs, renderJs, liveJs, '})();', ''].join('\n');
