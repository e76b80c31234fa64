// The phone's queue of tick-offs (IndexedDB), shared by the page (offline.js) and the service
// worker (sw.js, for Background Sync). Each entry keeps the id the phone made for it: the server
// answers a repeat with its first reply, so sending twice never records twice.
(function (scope) {
  "use strict";
  const DB = "houqin";
  const STORE = "queue";

  function open() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB, 1);
      request.onupgradeneeded = () => {
        request.result.createObjectStore(STORE, { keyPath: "id" }).createIndex("person", "person");
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  // run `work(store)` in one transaction; resolves with what work's last request returned
  async function transact(mode, work) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      let result;
      const request = work(tx.objectStore(STORE));
      if (request) request.onsuccess = () => { result = request.result; };
      tx.oncomplete = () => { db.close(); resolve(result); };
      tx.onerror = tx.onabort = () => { db.close(); reject(tx.error); };
    });
  }

  const put = (entry) => transact("readwrite", (s) => s.put(entry));
  const remove = (id) => transact("readwrite", (s) => s.delete(id));
  async function list(person) {
    const rows = (await transact("readonly", (s) => s.index("person").getAll(person))) || [];
    return rows.sort((a, b) => a.order - b.order);
  }
  async function clear(person) {
    for (const row of await list(person)) await remove(row.id);
  }

  function alertText(html) {
    const found = /role="alert"[^>]*>([\s\S]*?)<\/(p|div)>/.exec(html);
    return found ? found[1].replace(/<[^>]+>/g, "").trim() : "";
  }

  // one entry to the server: "sent" (with the reply), "offline", "login", "retry" or "refused"
  async function send(entry, csrf) {
    const body = new FormData();
    body.append("csrf", csrf);
    body.append("client_id", entry.id);
    for (const f of entry.fields) {
      if (f.blob) body.append(f.name, f.blob, f.filename);
      else body.append(f.name, f.value);
    }
    let response;
    try {
      response = await fetch(entry.url, {
        method: "POST", body, credentials: "same-origin", redirect: "manual",
      });
    } catch (err) {
      return { state: "offline" };
    }
    const kind = response.headers.get("content-type") || "";
    if (response.ok && kind.startsWith("application/json")) {
      return { state: "sent", reply: await response.json() };
    }
    if (response.type === "opaqueredirect" || response.status === 401) return { state: "login" };
    if (response.status >= 500 || response.status === 429 || response.status === 0) {
      return { state: "retry" };
    }
    const said = alertText(await response.text());
    return {
      state: "sent",
      reply: {
        outcome: "rejected",
        zh: `服务器拒绝了这次提交（HTTP ${response.status}）。${said}`,
        en: `The server refused this submission (HTTP ${response.status}). ${said}`,
      },
    };
  }

  async function token() {
    try {
      const r = await fetch("/sync/csrf", { credentials: "same-origin", cache: "no-store" });
      return r.ok ? (await r.json()).csrf : null;
    } catch (err) {
      return null;
    }
  }

  // Send a person's pending entries in order; stop at the first that cannot go now.
  // Returns {results: [{id, reply}], stopped: null | "offline" | "login" | "retry"}.
  async function flushOnce(person) {
    const out = { results: [], stopped: null };
    const pending = (await list(person)).filter((e) => e.state === "pending");
    if (!pending.length) return out;
    const csrf = await token();
    if (!csrf) { out.stopped = "offline"; return out; }
    for (const entry of pending) {
      const sent = await send(entry, csrf);
      if (sent.state !== "sent") { out.stopped = sent.state; break; }
      const outcome = sent.reply.outcome;
      if (outcome === "done" || outcome === "step") {
        await remove(entry.id);
      } else {  // a conflict or a refusal: kept until the person has read it
        entry.state = outcome;
        entry.reply = sent.reply;
        await put(entry);
      }
      out.results.push({ id: entry.id, page: entry.page, kind: entry.kind, reply: sent.reply });
    }
    return out;
  }

  function flush(person) {
    if (scope.navigator && navigator.locks) {  // the page and the worker never send at once
      return navigator.locks.request("houqin-sync", () => flushOnce(person));
    }
    return flushOnce(person);
  }

  const pagesCache = (person) => `houqin-pages-${person}`;

  scope.HouqinQueue = { put, remove, list, clear, flush, pagesCache };
})(self);
