// Tick-off that works without a connection (issue 17). Progressive: without a service worker
// or IndexedDB every form posts as before.
// - A tick, a sub-step, a note, a number or photos are first kept on the phone (queue.js), then
//   sent; without a connection they stay, shown as 待同步 with a count, and go when it returns
//   (Background Sync where the browser has it, the `online` event, and every page opened).
// - Photos are made smaller on the phone first, so a 12 MB camera photo fits the server's limit.
// - A conflict found at sync is shown with what happened and what was kept, until read.
// - Logging out deletes what the phone keeps for this person.
(function () {
  "use strict";
  const Q = window.HouqinQueue;
  const person = (document.querySelector("meta[name=houqin-person]") || {}).content || "";
  const zh = document.documentElement.lang.startsWith("zh");
  const t = (a, b) => (zh ? a : b);
  const MAX_PX = 2048;
  const SHRINK_OVER = 1.5 * 2 ** 20;
  const usable = Boolean(Q && window.indexedDB && window.caches && "serviceWorker" in navigator);
  const FORMS = [
    [/^\/items\/(\d+)\/tick$/, (m) => ({ kind: "tick", url: `/sync/items/${m[1]}`, page: `/items/${m[1]}` })],
    [/^\/items\/(\d+)\/steps\/(\d+)$/, (m) => ({ kind: "step", url: `/sync/items/${m[1]}`, page: `/items/${m[1]}`, step: m[2] })],
    [/^\/l\/([^/?#]+)$/, (m) => ({ kind: "link", url: `/sync/l/${m[1]}`, page: `/l/${m[1]}` })],
  ];

  if (usable) {
    navigator.serviceWorker.register("/sw.js").catch(() => {});
    navigator.serviceWorker.addEventListener("message", (e) => {
      if (e.data && e.data.type === "synced") after(e.data.stopped, e.data.results || []);
    });
  }

  function target(form) {
    const action = form.getAttribute("action") || "";
    for (const [pattern, make] of FORMS) {
      const m = pattern.exec(action);
      if (m) return make(m);
    }
    return null;
  }

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // A camera photo redrawn at most MAX_PX on its long side, as JPEG; small ones are sent as taken.
  async function shrink(file) {
    if (file.size <= SHRINK_OVER) return file;
    try {
      const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
      const scale = Math.min(1, MAX_PX / Math.max(bitmap.width, bitmap.height));
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
      if (!blob) return file;
      return new File([blob], file.name.replace(/\.[^.]*$/, "") + ".jpg", { type: "image/jpeg" });
    } catch (err) {
      return file;  // not decodable here: the server says what is wrong with it
    }
  }

  async function entryOf(form, where) {
    const fields = [];
    for (const [name, value] of new FormData(form)) {
      if (name === "csrf") continue;
      if (value instanceof File) {
        if (!value.name && !value.size) continue;
        const small = await shrink(value);
        fields.push({ name, blob: small, filename: small.name });
      } else {
        fields.push({ name, value });
      }
    }
    if (where.step) fields.push({ name: "step", value: where.step });
    const h1 = document.querySelector("h1");
    return {
      id: uuid(), person, url: where.url, page: where.page, kind: where.kind, step: where.step || null,
      title: h1 ? h1.firstChild.textContent.trim() : where.page, fields,
      made_at: new Date().toISOString(), order: Date.now() + Math.random(), state: "pending",
    };
  }

  function enable(form) {
    setTimeout(() => form.querySelectorAll("button").forEach((b) => { b.disabled = false; }), 0);
  }

  const applied = new Set();  // queued sub-step taps already shown on this page

  function flipStep(button) {
    const on = !button.classList.contains("on");
    button.classList.toggle("on", on);
    button.textContent = on ? "✓" : "";
    const done = button.form && button.form.querySelector("input[name=done]");
    if (done) done.value = on ? "0" : "1";
  }

  function finished(form, reply, where) {
    if (where.kind === "tick") return location.assign(`${where.page}?done=1`);
    if (where.kind === "step") return location.reload();
    const notice = document.createElement("p");
    notice.className = "notice good";
    notice.setAttribute("role", "status");
    notice.textContent = t(`${reply.zh}谢谢！这个链接现已失效。`, `${reply.en} Thank you! This link no longer works.`);
    form.replaceWith(notice);
  }

  async function submitted(event) {
    const form = event.target;
    if ((form.getAttribute("action") || "") === "/logout") return logout(event, form);
    const where = target(form);
    if (!usable || !person || !where) return;
    event.preventDefault();
    const entry = await entryOf(form, where);
    await Q.put(entry);
    navigator.serviceWorker.ready.then((r) => r.sync && r.sync.register("houqin-sync")).catch(() => {});
    const sent = await Q.flush(person);
    const mine = sent.results.find((r) => r.id === entry.id);
    if (mine && (mine.reply.outcome === "done" || mine.reply.outcome === "step")) {
      return finished(form, mine.reply, where);
    }
    if (mine && mine.reply.outcome === "rejected") {
      // refused as filled in, nothing written: the server's own page shows the form again
      await Q.remove(entry.id);
      return form.submit();
    }
    if (!mine && where.kind === "step") {
      applied.add(entry.id);
      flipStep(form.querySelector("button"));
    }
    else if (!mine) return queued(form) || show();  // its buttons stay off: one tap, one entry
    enable(form);
    await show();
  }

  function queued(form) {
    setTimeout(() => form.querySelectorAll("button").forEach((b) => { b.disabled = true; }), 0);
    if (form.previousElementSibling && form.previousElementSibling.classList.contains("queued")) return;
    const note = document.createElement("p");
    note.className = "notice warn queued";
    note.textContent = t("已保存在这台手机上（待同步），联网后会自动发送，不会重复记录。",
      "Kept on this phone (waiting to sync); it is sent when the connection returns, and never recorded twice.");
    form.before(note);
  }

  async function logout(event, form) {
    if (!usable || !person) return;
    event.preventDefault();
    let rows = await Q.list(person);
    if (rows.some((e) => e.state === "pending") && navigator.onLine) {
      await Q.flush(person);
      rows = await Q.list(person);
    }
    const waiting = rows.filter((e) => e.state === "pending").length;
    if (waiting && !window.confirm(t(
      `还有 ${waiting} 项没有同步。退出会把它们从这台手机上删除。仍然退出吗？`,
      `${waiting} submissions are not synced yet. Logging out deletes them from this phone. Log out anyway?`))) {
      enable(form);
      return;
    }
    await Q.clear(person);
    await caches.delete(Q.pagesCache(person));
    const worker = (await navigator.serviceWorker.getRegistration()) || {};
    if (worker.active) worker.active.postMessage({ type: "forget", person });
    form.submit();
  }

  function when(iso) {
    return new Date(iso).toLocaleString(zh ? "zh-CN" : "en-GB",
      { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
  }

  const KIND = { tick: ["完成", "done"], step: ["步骤", "step"], link: ["完成（提醒链接）", "done (reminder link)"] };

  // The panel under the header: what waits to be sent, and what came back as a conflict.
  // recorded from this page (or by the worker) since it was opened, or just before a reload
  let recorded = Number(sessionStorage.getItem("houqin-synced") || 0);
  sessionStorage.removeItem("houqin-synced");

  async function show(stopped, more) {
    recorded += more || 0;
    const synced = recorded;
    document.querySelectorAll(".queued").forEach((n) => n.remove());
    const box = document.getElementById("sync");
    if (!box || !usable || !person) return;
    const rows = await Q.list(person);
    const pending = rows.filter((e) => e.state === "pending");
    const problems = rows.filter((e) => e.state !== "pending");
    box.replaceChildren();
    box.hidden = !rows.length && !synced;
    if (synced) {
      const done = document.createElement("p");
      done.className = "notice good synced";
      done.textContent = t(`已同步 ${synced} 项，已记录。`, `${synced} synced and recorded.`);
      box.append(done);
    }
    if (pending.length) {
      const head = document.createElement("p");
      head.className = "notice warn";
      head.innerHTML = `${t("待同步", "Waiting to sync")} <strong class="pending-count">${pending.length}</strong> ${t("项", "")}`;
      const why = stopped === "login"
        ? t("：请先登录，然后会自动同步。", ": log in, then they are sent.")
        : t("：联网后自动发送。", ": sent when the connection returns.");
      head.append(why);
      const list = document.createElement("ul");
      for (const e of pending) {
        const li = document.createElement("li");
        const k = KIND[e.kind] || [e.kind, e.kind];
        li.textContent = `${e.title} · ${t(k[0], k[1])}${e.step ? " " + e.step : ""} · ${when(e.made_at)}`;
        list.append(li);
      }
      head.append(list);
      box.append(head);
    }
    for (const e of problems) {
      const p = document.createElement("div");
      p.className = "notice bad conflict";
      p.setAttribute("role", "alert");
      const title = document.createElement("strong");
      title.textContent = `${e.title}：`;
      p.append(title, t(e.reply.zh, e.reply.en));
      if (e.reply.kept_zh) {
        const kept = document.createElement("p");
        kept.className = "kept";
        kept.textContent = t(e.reply.kept_zh, e.reply.kept_en);
        p.append(kept);
      }
      const ok = document.createElement("button");
      ok.type = "button";
      ok.className = "secondary";
      ok.textContent = t("知道了", "OK");
      ok.addEventListener("click", async () => { await Q.remove(e.id); show(); });
      p.append(ok);
      box.append(p);
    }
    // a page the phone keeps: show what is queued for it
    for (const e of pending) {
      if (e.page !== location.pathname) continue;
      if (e.kind === "step") {
        const button = document.querySelector(`#step-${e.step} form button`);
        if (button && !applied.has(e.id)) { applied.add(e.id); flipStep(button); }
      } else {
        const form = document.querySelector(`form[action="${e.kind === "link" ? e.page : e.page + "/tick"}"]`);
        if (form) queued(form);
      }
    }
  }

  const isRecorded = (r) => r.reply.outcome === "done" || r.reply.outcome === "step";

  // After a sync (by this page or by the worker): a copy kept on the phone is shown as it is
  // now, with what was just recorded; a reminder-link page says it is done.
  async function after(stopped, results) {
    const ok = results.filter(isRecorded);
    const kept = document.getElementById("offline-copy");
    if (ok.length && kept && !location.pathname.startsWith("/l/")) {
      sessionStorage.setItem("houqin-synced", String(recorded + ok.length));
      return location.reload();
    }
    const link = ok.find((r) => r.kind === "link" && r.page === location.pathname);
    const form = link && document.querySelector(`form[action="${link.page}"]`);
    if (form) {
      if (kept) kept.remove();
      finished(form, link.reply, { kind: "link" });
    }
    await show(stopped, ok.length);
  }

  async function sync() {
    if (!usable || !person) return;
    const sent = await Q.flush(person);
    await after(sent.stopped, sent.results);
  }

  if (usable) {
    window.addEventListener("submit", (e) => { submitted(e); }, true);
    window.addEventListener("online", sync);
    if (navigator.onLine) sync(); else show();
  }
})();
