// Houqin's service worker: staff pages readable offline, queued tick-offs sent when the
// connection returns. Pages are kept per person (cache "houqin-pages-<person>"); only the
// person whose page the server last sent (the X-Houqin-Person header) is served a copy.
importScripts("/static/queue.js");

const STATIC = "houqin-static-v1";
const META = "houqin-meta";
const ASSETS = [
  "/static/houqin.css", "/static/houqin.js", "/static/queue.js", "/static/offline.js",
  "/static/icon-192.png", "/manifest.webmanifest",
];
const PAGE = /^\/(my|team|items\/\d+|l\/[^/]+)$/;
const PHOTO = /^\/photos\/\d+(\/thumb)?$/;
const TIMEOUT_MS = 8000;  // weak signal: after this, the saved copy is better than waiting

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(STATIC).then((c) => c.addAll(ASSETS)).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === "/logout") {
    event.respondWith(fetch(request).catch(() => loggedOutOffline()));
    return;
  }
  if (request.method !== "GET") return;
  if (url.pathname.startsWith("/static/") || url.pathname === "/manifest.webmanifest") {
    event.respondWith(asset(request));
  } else if (request.mode === "navigate") {
    event.respondWith(page(request, url));
  } else if (PHOTO.test(url.pathname)) {
    event.respondWith(photo(request, url));
  }
});

self.addEventListener("sync", (event) => {
  if (event.tag === "houqin-sync") event.waitUntil(syncNow());
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "forget") event.waitUntil(forget(event.data.person));
});

async function current() {
  const saved = await (await caches.open(META)).match("/__person");
  return saved ? saved.text() : "";
}

async function setCurrent(person) {
  await (await caches.open(META)).put("/__person", new Response(person));
}

async function forget(person) {
  await caches.delete(HouqinQueue.pagesCache(person));
  if ((await current()) === person) await setCurrent("");
}

async function asset(request) {
  const cache = await caches.open(STATIC);
  const saved = await cache.match(request, { ignoreSearch: true });
  const fresh = fetch(request).then((response) => {
    if (response.ok) cache.put(request, response.clone());
    return response;
  });
  if (saved) {
    fresh.catch(() => null);
    return saved;
  }
  return fresh;
}

function withTimeout(promise) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), TIMEOUT_MS)),
  ]);
}

async function page(request, url) {
  // only a page with a kept copy stops waiting for a weak signal; any other waits as usual
  const network = fetch(request);
  network.catch(() => null);
  let response;
  try {
    response = (await saved(url)) ? await withTimeout(network) : await network;
  } catch (err) {
    return savedPage(url);
  }
  const kind = response.headers.get("content-type") || "";
  if (response.status === 200 && kind.startsWith("text/html")) {
    const person = response.headers.get("X-Houqin-Person") || "";
    await setCurrent(person);  // a page of nobody (the login page): nothing is served offline
    if (person && PAGE.test(url.pathname)) await remember(person, url, response.clone());
  }
  return response;
}

async function remember(person, url, response) {
  const headers = new Headers(response.headers);
  headers.set("X-Houqin-Saved-At", new Date().toISOString());
  const copy = new Response(await response.blob(), { status: 200, headers });
  await (await caches.open(HouqinQueue.pagesCache(person))).put(url.origin + url.pathname, copy);
}

async function saved(url) {
  const person = await current();
  if (!person || !PAGE.test(url.pathname)) return null;
  const cache = await caches.open(HouqinQueue.pagesCache(person));
  return (await cache.match(url.origin + url.pathname)) || null;
}

async function savedPage(url) {
  const copy = await saved(url);
  return copy ? marked(copy) : offlinePage(await current());
}

// The saved copy, with a line saying so and when it was last brought up to date.
async function marked(saved) {
  const html = await saved.text();
  const at = saved.headers.get("X-Houqin-Saved-At") || "";
  const zh = /<html lang="zh/.test(html);
  const when = at ? new Date(at).toLocaleString(zh ? "zh-CN" : "en-GB", {
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  }) : "";
  const text = zh
    ? `离线：这是本机保存的副本，上次更新于 ${when}。联网后会自动刷新。`
    : `Offline: a copy kept on this phone, last brought up to date ${when}. It refreshes when the connection returns.`;
  const banner = `<p class="notice warn" id="offline-copy" data-saved-at="${at}">${text}</p>`;
  const headers = new Headers(saved.headers);
  headers.set("Content-Type", "text/html; charset=utf-8");
  return new Response(html.replace("<main>", "<main>\n" + banner), { status: 200, headers });
}

function offlinePage(person) {
  const html = `<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="houqin-person" content="${person}">
<title>离线 · 后勤</title><link rel="stylesheet" href="/static/houqin.css">
<script src="/static/queue.js" defer></script><script src="/static/offline.js" defer></script>
</head><body><header class="top"><a class="brand" href="/my">后勤 <small>Houqin</small></a></header>
<div id="sync" class="sync" hidden aria-live="polite"></div>
<main><h1>没有网络 · Offline</h1>
<p class="notice warn" id="offline-copy">这一页还没有在这台手机上保存过，联网后再打开。<br>
This page was not kept on this phone; open it again when the connection returns.</p>
<p><a href="/my">我的事项 · My items</a></p></main></body></html>`;
  return new Response(html, {
    status: 503, headers: { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" },
  });
}

// Logging out without a connection: the page has already deleted what the phone kept.
function loggedOutOffline() {
  const html = `<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>退出 · 后勤</title><link rel="stylesheet" href="/static/houqin.css"></head>
<body><header class="top"><a class="brand" href="/login">后勤 <small>Houqin</small></a></header>
<main><p class="notice warn" id="offline-copy">本机保存的事项和待同步内容已删除。没有网络，服务器上的登录还没有结束：联网后请再点一次「退出」。<br>
What this phone kept for you is deleted. Without a connection the login itself has not ended
yet: log out once more when the connection returns.</p></main></body></html>`;
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

async function photo(request, url) {
  const person = await current();
  const cache = person ? await caches.open(HouqinQueue.pagesCache(person)) : null;
  try {
    const response = await withTimeout(fetch(request));
    if (cache && response.ok) await cache.put(url.origin + url.pathname, response.clone());
    return response;
  } catch (err) {
    const saved = cache ? await cache.match(url.origin + url.pathname) : null;
    if (saved) return saved;
    throw err;
  }
}

async function syncNow() {
  const person = await current();
  if (!person) return;
  const sent = await HouqinQueue.flush(person);
  for (const client of await self.clients.matchAll({ type: "window" })) {
    client.postMessage({ type: "synced", results: sent.results, stopped: sent.stopped });
  }
  if (sent.stopped === "offline" || sent.stopped === "retry") {
    throw new Error("not yet sent");  // Background Sync tries again later
  }
}
