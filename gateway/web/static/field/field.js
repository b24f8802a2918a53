/* Every inspector page (issue 19): the offline pages' service worker, the queue of results
 * waiting for the network, and the state shown at the top: 离线 / 待同步 N 项 / 已同步.
 *
 * The queue lives in IndexedDB ("shuangsui-field", store "drafts", one record per task): the
 * draft as the inspector types it (form.js), its photos and drawn signature as compressed blobs.
 * A draft the inspector submitted is "queued"; sync() sends it when the network is there:
 * first each photo and the signature, in resumable chunks (/api/v1/tasks/<id>/uploads), then
 * the form's fields with the idempotency key drawn at submit time. A replay stores nothing
 * twice; a result changed meanwhile comes back as a conflict and waits for the inspector.
 * Sent drafts are deleted; everything is deleted at sign-out.
 */
'use strict';

(function () {
  const DB_NAME = 'shuangsui-field';
  const STORE = 'drafts';
  const CHUNK = 64 * 1024;
  const RETRY_MS = 30000;
  const listeners = [];
  let syncing = null;

  function openDb() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE, {keyPath: 'taskId'});
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  async function tx(mode, work) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const store = t.objectStore(STORE);
      let value;
      const req = work(store);
      if (req) req.onsuccess = () => { value = req.result; };
      t.oncomplete = () => { db.close(); resolve(value); };
      t.onerror = () => { db.close(); reject(t.error); };
    });
  }

  const drafts = {
    get: (taskId) => tx('readonly', (s) => s.get(taskId)),
    all: () => tx('readonly', (s) => s.getAll()),
    put: (draft) => tx('readwrite', (s) => s.put(draft)).then(() => { refresh(); return draft; }),
    remove: (taskId) => tx('readwrite', (s) => s.delete(taskId)).then(refresh),
  };

  function randomKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  async function sha256(blob) {
    const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function csrfToken() {
    const field = document.querySelector('input[name="csrf_token"]');
    return field ? field.value : '';
  }

  class NeedsSignIn extends Error {}

  async function call(url, options) {
    const headers = Object.assign({'X-CSRF-Token': csrfToken()}, options.headers || {});
    const response = await fetch(url, Object.assign({}, options, {headers, credentials: 'same-origin', redirect: 'manual'}));
    const type = response.headers.get('Content-Type') || '';
    if (response.type === 'opaqueredirect' || response.status === 401 || !type.includes('json')) {
      throw new NeedsSignIn('sign-in needed');
    }
    const body = await response.json();
    if (response.status === 403 && body.code === 'csrf_failed') throw new NeedsSignIn('page expired');
    return {status: response.status, body};
  }

  /* One file, resumed where the server says it stopped. */
  async function upload(taskId, file) {
    let state = (await call(`/api/v1/tasks/${taskId}/uploads`, {
      method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({key: file.uploadKey, filename: file.name, size: file.blob.size, sha256: file.sha256}),
    }));
    if (state.status >= 400) throw Object.assign(new Error('upload refused'), {answer: state.body});
    let received = state.body.received;
    while (!state.body.complete) {
      state = await call(`/api/v1/uploads/${file.uploadKey}?offset=${received}`, {
        method: 'PUT', headers: {'Content-Type': 'application/octet-stream'},
        body: file.blob.slice(received, received + CHUNK),
      });
      if (state.status === 409 && state.body.errors && 'received' in state.body.errors) {
        received = state.body.errors.received;
        continue;
      }
      if (state.status >= 400) throw Object.assign(new Error('upload refused'), {answer: state.body});
      received = state.body.received;
    }
    return state.body.attachment_id;
  }

  async function send(draft) {
    for (const photo of draft.photos || []) {
      if (!photo.attachmentId) {
        photo.attachmentId = await upload(draft.taskId, photo);
        await drafts.put(draft);
      }
    }
    const signature = draft.signature;
    if (signature && !signature.attachmentId) {
      signature.attachmentId = await upload(draft.taskId, signature);
      await drafts.put(draft);
    }
    const answer = await call(draft.syncUrl, {
      method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({
        key: draft.key, base: draft.base, fields: draft.fields,
        attachment_ids: (draft.photos || []).map((p) => p.attachmentId),
        signature_attachment_id: signature ? signature.attachmentId : null,
      }),
    });
    if (answer.status === 200 || answer.status === 201) {
      await drafts.remove(draft.taskId);
      announce({type: 'sent', taskId: draft.taskId, answer: answer.body});
    } else if (answer.status === 409 && answer.body.code === 'result_conflict') {
      draft.state = 'conflict';
      draft.server = answer.body.server || null;
      draft.message = answer.body.message;
      await drafts.put(draft);
      announce({type: 'conflict', taskId: draft.taskId, draft});
    } else {
      draft.state = 'invalid';
      draft.message = answer.body.message;
      draft.errors = answer.body.fields || {};
      await drafts.put(draft);
      announce({type: 'invalid', taskId: draft.taskId, draft});
    }
  }

  async function runSync() {
    if (!navigator.onLine) return;
    for (const draft of await drafts.all()) {
      if (draft.state !== 'queued') continue;
      try {
        await send(draft);
      } catch (err) {
        if (err instanceof NeedsSignIn) {
          state.signIn = true;
          refresh();
          return;
        }
        if (err.answer) {
          draft.state = 'invalid';
          draft.message = err.answer.message;
          draft.errors = {};
          await drafts.put(draft);
          announce({type: 'invalid', taskId: draft.taskId, draft});
          continue;
        }
        return;  // the network went away: the next attempt resumes
      }
    }
  }

  function sync() {
    if (!syncing) {
      syncing = runSync().finally(() => { syncing = null; refresh(); });
    }
    return syncing;
  }

  const state = {signIn: false};

  async function refresh() {
    const box = document.getElementById('field-state');
    if (!box) return;
    const all = await drafts.all();
    const queued = all.filter((d) => d.state === 'queued').length;
    const stuck = all.filter((d) => d.state === 'conflict' || d.state === 'invalid').length;
    const parts = [];
    let kind = 'synced';
    if (!navigator.onLine) {
      parts.push('离线');
      kind = 'offline';
    }
    if (queued) {
      parts.push(`待同步 ${queued} 项`);
      if (kind === 'synced') kind = 'pending';
    }
    if (stuck) {
      parts.push(`${stuck} 项需要处理`);
      kind = 'attention';
    }
    if (state.signIn && queued) parts.push('请重新登录后自动提交');
    if (!parts.length) parts.push('已同步');
    box.textContent = parts.join('，');
    box.dataset.state = kind;
    box.hidden = false;
  }

  function announce(event) {
    for (const fn of listeners) fn(event);
  }

  async function clearAll() {
    if ('serviceWorker' in navigator) {
      for (const registration of await navigator.serviceWorker.getRegistrations()) {
        await registration.unregister();
      }
    }
    if (window.caches) {
      for (const name of await caches.keys()) await caches.delete(name);
    }
    await new Promise((resolve) => {
      const req = indexedDB.deleteDatabase(DB_NAME);
      req.onsuccess = req.onerror = req.onblocked = () => resolve();
    });
  }

  function guardSignOut() {
    const form = document.querySelector('form[action$="/sign-out"]');
    if (!form) return;
    form.addEventListener('submit', async (event) => {
      if (form.dataset.cleared) return;
      event.preventDefault();
      const waiting = (await drafts.all()).filter((d) => d.state !== 'posted').length;
      if (waiting && !window.confirm(`手机上还有 ${waiting} 项检查结果未提交，退出登录会把它们从手机上删除。确定退出？`)) return;
      await clearAll();
      form.dataset.cleared = '1';
      form.submit();
    });
  }

  function start() {
    if ('serviceWorker' in navigator) {
      navigator.serviceWorker.register('/field-sw.js', {scope: '/console/'}).catch(() => {});
    }
    guardSignOut();
    window.addEventListener('online', () => { refresh(); sync(); });
    window.addEventListener('offline', refresh);
    setInterval(() => { if (navigator.onLine) sync(); }, RETRY_MS);
    refresh();
    sync();
  }

  window.ShuangsuiField = {
    drafts, sync, refresh, randomKey, sha256,
    onEvent: (fn) => listeners.push(fn),
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
