/* The result form on the inspector's phone (issue 19), on top of field.js.
 *
 * - The draft is kept in IndexedDB as the inspector types (every input and change), and put back
 *   when the form opens again, online or not.
 * - The target's representative signs with a finger on the canvas (pointer events); the drawing
 *   is kept as a PNG and uploaded with the result, which records its SHA-256.
 * - Photos from the camera are resized on the phone to at most LONG_SIDE px on the long side and
 *   re-encoded as JPEG of at most MAX_BYTES (which also drops EXIF, location included), unless
 *   the inspector keeps the original for evidence.
 * - Submitting offline, or with a drawing or photos, queues the result with a fresh idempotency
 *   key; field.js sends it now or when the network returns. A conflict shows both versions side
 *   by side and lets the inspector choose. Online with neither, the form simply posts.
 * Without JavaScript the form posts as before.
 */
'use strict';

(function () {
  const LONG_SIDE = 1600;
  const MAX_BYTES = 400 * 1024;
  const QUALITIES = [0.85, 0.75, 0.65, 0.55];
  const SKIP = new Set(['csrf_token', 'correct', 'photos']);
  const F = window.ShuangsuiField;
  const form = document.querySelector('form[data-field-task]');
  if (!F || !form || form.dataset.fieldOff) return;

  const taskId = Number(form.dataset.fieldTask);
  const notice = document.getElementById('field-notice');
  const canvas = document.getElementById('sig-canvas');
  const sigState = document.getElementById('sig-state');
  const photoList = document.getElementById('field-photos');
  const conflictBox = document.getElementById('field-conflict');
  let saveTimer = null;

  function fresh() {
    return {taskId, syncUrl: form.dataset.fieldSync, base: form.dataset.fieldBase || '', url: location.pathname,
      fields: [], photos: [], signature: null, state: 'draft', updatedAt: Date.now()};
  }

  async function current() {
    return (await F.drafts.get(taskId)) || fresh();
  }

  function collect() {
    const pairs = [];
    for (const el of form.elements) {
      if (!el.name || SKIP.has(el.name) || el.type === 'file' || el.type === 'submit' || el.type === 'button') continue;
      if ((el.type === 'checkbox' || el.type === 'radio') && !el.checked) continue;
      pairs.push([el.name, el.value]);
    }
    return pairs;
  }

  function restore(pairs) {
    const values = new Map();
    for (const [name, value] of pairs) {
      if (!values.has(name)) values.set(name, []);
      values.get(name).push(value);
    }
    for (const el of form.elements) {
      if (!el.name || SKIP.has(el.name) || el.type === 'file' || el.type === 'submit' || el.type === 'button') continue;
      const given = values.get(el.name) || [];
      if (el.type === 'checkbox' || el.type === 'radio') el.checked = given.includes(el.value);
      else el.value = given.length ? given[0] : '';
    }
  }

  function say(text, kind) {
    notice.textContent = text;
    notice.dataset.kind = kind || 'info';
    notice.hidden = !text;
  }

  /* Read, change and write the draft, one change after another (typing, the signature and the
   * photos save at once: none may write over another's change). */
  let pending = Promise.resolve();
  function update(change) {
    const next = pending.then(async () => {
      const draft = await current();
      change(draft);
      draft.updatedAt = Date.now();
      return F.drafts.put(draft);
    });
    pending = next.catch(() => null);
    return next;
  }

  function saveSoon() {
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => update((draft) => {
      draft.fields = collect();
      if (draft.state === 'queued' || draft.state === 'invalid') draft.state = 'draft';
    }), 250);
  }

  // ------------------------------------------------------------------------- signature pad
  let drawing = false;

  function fitCanvas() {
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(canvas.clientWidth * ratio);
    canvas.height = Math.round(canvas.clientHeight * ratio);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.lineWidth = 3 * ratio;
    ctx.lineCap = ctx.lineJoin = 'round';
    ctx.strokeStyle = '#10243f';
  }

  function point(event) {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * canvas.width / box.width, (event.clientY - box.top) * canvas.height / box.height];
  }

  function signed(yes) {
    const stored = form.dataset.fieldSigned ? '已有签名随结果保存；如需重新签名，请在框内签名' : '尚未签名';
    sigState.textContent = yes ? '已签名（保存在本机，随结果提交）' : stored;
    sigState.dataset.signed = yes ? '1' : '';
  }

  async function keepSignature() {
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
    const digest = await F.sha256(blob);
    await update((draft) => {
      draft.signature = {name: 'signature.png', blob, sha256: digest, uploadKey: F.randomKey(), attachmentId: null};
    });
    signed(true);
  }

  async function showSignature(blob) {
    const image = await createImageBitmap(blob);
    canvas.getContext('2d').drawImage(image, 0, 0, canvas.width, canvas.height);
  }

  function setUpSignature() {
    document.getElementById('f-signature-pad').hidden = false;
    fitCanvas();
    canvas.addEventListener('pointerdown', (event) => {
      event.preventDefault();
      canvas.setPointerCapture(event.pointerId);
      drawing = true;
      const ctx = canvas.getContext('2d');
      ctx.beginPath();
      ctx.moveTo(...point(event));
    });
    canvas.addEventListener('pointermove', (event) => {
      if (!drawing) return;
      const ctx = canvas.getContext('2d');
      ctx.lineTo(...point(event));
      ctx.stroke();
    });
    const end = () => {
      if (!drawing) return;
      drawing = false;
      keepSignature();
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
    document.getElementById('sig-clear').addEventListener('click', async () => {
      fitCanvas();
      await update((draft) => { draft.signature = null; });
      signed(false);
    });
  }

  // ------------------------------------------------------------------------------ photos
  async function compress(file) {
    const bitmap = await createImageBitmap(file, {imageOrientation: 'from-image'});
    let scale = Math.min(1, LONG_SIDE / Math.max(bitmap.width, bitmap.height));
    const work = document.createElement('canvas');
    let blob = null;
    for (let round = 0; round < 6; round += 1) {
      work.width = Math.max(1, Math.round(bitmap.width * scale));
      work.height = Math.max(1, Math.round(bitmap.height * scale));
      work.getContext('2d').drawImage(bitmap, 0, 0, work.width, work.height);
      for (const quality of QUALITIES) {
        blob = await new Promise((resolve) => work.toBlob(resolve, 'image/jpeg', quality));
        if (blob.size <= MAX_BYTES) return blob;
      }
      scale *= 0.8;
    }
    return blob;
  }

  function jpegName(name) {
    return (name.replace(/\.[^.]*$/, '') || 'photo') + '.jpg';
  }

  async function addPhotos(input) {
    const keep = document.getElementById('f-keep-original').checked;
    const added = [];
    for (const file of Array.from(input.files)) {
      const original = file.type === 'application/pdf' || (keep && /^image\/(jpeg|png)$/.test(file.type));
      let blob = file;
      let name = file.name;
      if (!original) {
        try {
          blob = await compress(file);
          name = jpegName(file.name);
        } catch (err) {
          say(`无法读取照片“${file.name}”，请换一张或改用 JPEG/PNG。`, 'error');
          continue;
        }
      }
      added.push({id: F.randomKey(), uploadKey: F.randomKey(), name, blob, sha256: await F.sha256(blob),
        original, attachmentId: null});
    }
    input.value = '';
    const draft = await update((d) => { d.photos = (d.photos || []).concat(added); });
    showPhotos(draft.photos);
  }

  function showPhotos(photos) {
    photoList.textContent = '';
    for (const photo of photos || []) {
      const item = document.createElement('li');
      const kb = Math.round(photo.blob.size / 1024);
      item.append(`${photo.name}（${kb} KB，${photo.original ? '原图' : '已压缩，不含位置信息'}${photo.attachmentId ? '，已上传' : '，待上传'}） `);
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'btn btn-secondary btn-small';
      remove.textContent = '移除';
      remove.setAttribute('aria-label', `移除 ${photo.name}`);
      remove.addEventListener('click', async () => {
        const draft = await update((d) => { d.photos = d.photos.filter((p) => p.id !== photo.id); });
        showPhotos(draft.photos);
      });
      item.append(remove);
      photoList.append(item);
    }
  }

  // ---------------------------------------------------------------------------- conflicts
  function labelOf(name) {
    const el = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (!el) return name;
    let text = '';
    if (el.type === 'checkbox' || el.type === 'radio') {
      const legend = el.closest('fieldset') && el.closest('fieldset').querySelector('legend');
      text = legend ? legend.textContent : name;
    } else {
      const label = el.id && form.querySelector(`label[for="${CSS.escape(el.id)}"]`);
      text = label ? label.textContent : name;
    }
    return text.replace('*', '').trim();
  }

  function shown(name, values) {
    return values.map((value) => {
      const option = form.querySelector(`[name="${CSS.escape(name)}"][value="${CSS.escape(value)}"]`);
      const label = option && option.id && form.querySelector(`label[for="${CSS.escape(option.id)}"]`);
      if (label) return label.textContent.trim();
      const choice = form.querySelector(`select[name="${CSS.escape(name)}"] option[value="${CSS.escape(value)}"]`);
      return choice ? choice.textContent.trim() : value;
    }).join('、') || '（空）';
  }

  function grouped(pairs) {
    const out = new Map();
    for (const [name, value] of pairs) {
      if (SKIP.has(name) || name === 'attachment_ids' || name === 'reason') continue;
      if (!out.has(name)) out.set(name, []);
      if (value !== '') out.get(name).push(value);
    }
    return out;
  }

  function cell(row, text, label) {
    const td = document.createElement('td');
    td.textContent = text;
    td.dataset.label = label;
    row.append(td);
  }

  function showConflict(draft) {
    const server = draft.server;
    conflictBox.hidden = false;
    conflictBox.querySelector('.conflict-message').textContent = draft.message +
      (server ? `服务器上是第 ${server.version} 版，状态：${server.status_label}${server.review_note ? `（${server.review_note}）` : ''}。` : '');
    const body = conflictBox.querySelector('tbody');
    body.textContent = '';
    const mine = grouped(draft.fields);
    const theirs = grouped(server ? server.fields : []);
    for (const name of new Set([...mine.keys(), ...theirs.keys()])) {
      const a = (mine.get(name) || []).slice().sort().join('|');
      const b = (theirs.get(name) || []).slice().sort().join('|');
      if (a === b) continue;
      const row = document.createElement('tr');
      cell(row, labelOf(name), '项目');
      cell(row, shown(name, mine.get(name) || []), '本机版本（未提交）');
      cell(row, shown(name, theirs.get(name) || []), '服务器上的版本');
      body.append(row);
    }
    document.getElementById('conflict-keep').hidden = !(server && server.editable);
    conflictBox.focus();
  }

  function setUpConflict() {
    document.getElementById('conflict-keep').addEventListener('click', async () => {
      const draft = await F.drafts.get(taskId);
      draft.base = draft.server.stamp;
      draft.key = F.randomKey();
      draft.state = 'queued';
      draft.server = null;
      await F.drafts.put(draft);
      conflictBox.hidden = true;
      say('将用本机版本覆盖服务器上的版本，正在提交…');
      F.sync();
    });
    document.getElementById('conflict-drop').addEventListener('click', async () => {
      await F.drafts.remove(taskId);
      location.reload();
    });
  }

  /* A refusal that came back after the phone was offline: each message beside its field. */
  function showErrors(errors) {
    for (const old of form.querySelectorAll('.field-error[data-field]')) old.remove();
    for (const [name, messages] of Object.entries(errors)) {
      const el = form.querySelector(`[name="${CSS.escape(name)}"]`);
      const box = el ? el.closest('.field, fieldset') : notice;
      if (el) {
        box.classList.add('has-error');
        el.setAttribute('aria-invalid', 'true');
      }
      for (const message of messages) {
        const p = document.createElement('p');
        p.className = 'field-error';
        p.dataset.field = name;
        p.textContent = el ? message : `${name}：${message}`;
        box.append(p);
      }
    }
  }

  // ------------------------------------------------------------------------------ submit
  /* Online, with nothing only the phone holds (drawing, photos), the form posts as it does without
   * JavaScript (errors beside the fields); the draft is kept until the next page shows it landed. */
  async function submit(event) {
    event.preventDefault();
    clearTimeout(saveTimer);
    const fields = collect();
    const plain = navigator.onLine;
    const draft = await update((d) => {
      d.fields = fields;
      d.state = plain && !d.signature && !(d.photos || []).length ? 'posted' : 'queued';
      d.key = F.randomKey();
      d.errors = null;
    });
    if (draft.state === 'posted') {
      form.submit();
      return;
    }
    say(navigator.onLine ? '正在提交…' : '已保存在本机，联网后自动提交（待同步）。');
    F.sync();
  }

  F.onEvent((event) => {
    if (event.taskId !== taskId) return;
    if (event.type === 'sent') {
      form.dataset.fieldBase = event.answer.stamp;
      if (event.answer.signed) form.dataset.fieldSigned = '1';
      showPhotos([]);
      say(`检查结果已提交（第 ${event.answer.version} 版），等待牵头部门审核。`, 'success');
    } else if (event.type === 'conflict') {
      say('检查结果有冲突，请在下方对照两个版本后决定。', 'error');
      showConflict(event.draft);
    } else if (event.type === 'invalid') {
      say(event.draft.message, 'error');
      showErrors(event.draft.errors || {});
    }
  });

  async function start() {
    setUpSignature();
    setUpConflict();
    let draft = await F.drafts.get(taskId);
    if (draft && draft.state === 'posted' && draft.base !== (form.dataset.fieldBase || '')) {
      await F.drafts.remove(taskId);  // the form's post landed: the server's version is shown
      draft = null;
    }
    if (draft) {
      if (draft.state === 'posted') draft.state = 'draft';
      restore(draft.fields);
      if (draft.signature) await showSignature(draft.signature.blob);
      showPhotos(draft.photos);
      if (draft.state === 'queued') say('已保存在本机，联网后自动提交（待同步）。');
      else if (draft.state === 'conflict') showConflict(draft);
      else if (draft.state === 'invalid') {
        say(draft.message, 'error');
        showErrors(draft.errors || {});
      }
      else say('已恢复保存在本机的草稿。');
    }
    signed(Boolean(draft && draft.signature));
    form.addEventListener('input', saveSoon);
    form.addEventListener('change', (event) => {
      if (event.target.type === 'file') addPhotos(event.target);
      else saveSoon();
    });
    form.addEventListener('submit', submit);
  }

  start();
})();
