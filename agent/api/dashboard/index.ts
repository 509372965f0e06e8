/** The dashboard's files, served by the API at these paths. */
export interface Asset {
  contentType: string;
  body: string;
}

export const dashboardAssets: Readonly<Record<string, Asset>> = {
  '/': {
    contentType: 'text/html; charset=utf-8',
    body: '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>tonari</title></head><body><h1>tonari</h1></body></html>',
  },
};
