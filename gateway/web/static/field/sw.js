/* The inspectors' service worker (issue 19), served as /field-sw.js with scope /console/.
 *
 * Pages an inspector opened online — my tasks, a task, its sheet, guide and result form — are
 * kept in the Cache Storage and shown when the network is gone. Network first: a page is always
 * fetched fresh when it can be (within NETWORK_WAIT_MS on a weak signal), and the copy replaced;
 * the stylesheet and scripts are served from the cache and refreshed behind. A kept page older
 * than MAX_AGE_DAYS is not shown any more. Sign-out deletes everything (field.js, and the
 * server's Clear-Site-Data header). Nothing is sent from here: the queue of results is field.js's.
 */
'use strict';

const CACHE = 'shuangsui-field-v1';
const MAX_AGE_DAYS = 7;
const MAX_AGE_MS = MAX_AGE_DAYS * 24 * 3600 * 1000;
const NETWORK_WAIT_MS = 8000;
const STAMP = 'x-field-cached-at';
const PAGES = [/^\/console\/my-tasks$/, /^\/console\/tasks\/\d+$/, /^\/console\/tasks\/\d+\/(sheet|guide|result)$/];

self.addEventListener('install', () => self.skipWaiting());

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'clear') {
    event.waitUntil(caches.delete(CACHE));
  }
});

function keptPage(url) {
  return url.origin === self.location.origin && PAGES.some((re) => re.test(url.pathname));
}

async function stamped(response) {
  const headers = new Headers(response.headers);
  headers.set(STAMP, String(Date.now()));
  return new Response(await response.blob(), {status: response.status, statusText: response.statusText, headers});
}

async function fromCache(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request, {ignoreSearch: false});
  if (!hit) return null;
  const at = Number(hit.headers.get(STAMP) || 0);
  if (Date.now() - at > MAX_AGE_MS) {
    await cache.delete(request);
    return null;
  }
  return hit;
}

function offlinePage() {
  const html = '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1"><title>离线</title></head>' +
    '<body><main><h1>当前离线</h1><p>这个页面没有在联网时打开过，手机上没有保存。' +
    '联网时打开过的“我的任务”、任务、任务书、指引书和结果表可以离线查看。</p>' +
    '<p><a href="/console/my-tasks">我的任务</a></p></main></body></html>';
  return new Response(html, {status: 503, headers: {'Content-Type': 'text/html; charset=utf-8'}});
}

async function page(request) {
  const url = new URL(request.url);
  try {
    const response = await Promise.race([
      fetch(request),
      new Promise((_, reject) => setTimeout(() => reject(new Error('slow network')), NETWORK_WAIT_MS)),
    ]);
    const signedOut = response.redirected && new URL(response.url).pathname.startsWith('/sign-in');
    if (response.ok && !signedOut) {
      const cache = await caches.open(CACHE);
      await cache.put(url.href, await stamped(response.clone()));
    }
    return response;
  } catch (err) {
    return (await fromCache(url.href)) || offlinePage();
  }
}

async function asset(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
  const fresh = fetch(request).then(async (response) => {
    if (response.ok) await cache.put(request, response.clone());
    return response;
  }).catch(() => null);
  return hit || (await fresh) || Response.error();
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (keptPage(url) && request.mode === 'navigate') {
    event.respondWith(page(request));
  } else if (url.pathname.startsWith('/assets/')) {
    event.respondWith(asset(request));
  }
});
