/** /favicon.svg, also the logo in the header: a sun over two neighbouring roofs. */
export const faviconSvg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">
  <rect width="64" height="64" rx="14" fill="#1f3a5f"/>
  <circle cx="32" cy="22" r="8" fill="#ffb52e"/>
  <g stroke="#ffb52e" stroke-width="3" stroke-linecap="round">
    <path d="M32 6v3M18.5 11.5l2 2M45.5 11.5l-2 2M13 22h3M48 22h3"/>
  </g>
  <path d="M8 50V40l10-8 10 8v10z" fill="#e8ebef"/>
  <path d="M36 50V40l10-8 10 8v10z" fill="#e8ebef"/>
  <path d="M27 43h10" stroke="#3ccf8a" stroke-width="3" stroke-linecap="round"/>
  <path d="M34 40l3 3-3 3" fill="none" stroke="#3ccf8a" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/>
</svg>
`;
