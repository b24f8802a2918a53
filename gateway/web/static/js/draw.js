/* The draw's projector page: commit, then reveal (article 16).
 *
 * At the commitment stage each participant types their digits into a hidden field; this script
 * draws a random salt and shows commitment = SHA-256(salt + "|" + digits) as the page sends it.
 * The digits and the salt are NOT sent: they stay in this browser tab (sessionStorage) until the
 * reveal stage, where they are filled in and checked against the recorded commitments.
 * Without JavaScript the page still works: participants type the commitment they computed
 * themselves, and type their digits and salt at the reveal.
 */
(function () {
  "use strict";

  var K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ];

  function ror(x, n) { return (x >>> n) | (x << (32 - n)); }

  /* SHA-256 of the UTF-8 bytes of text, as lower-case hex (synchronous, works without HTTPS). */
  function sha256Hex(text) {
    var bytes = new TextEncoder().encode(text);
    var total = ((bytes.length + 9 + 63) >> 6) << 6;
    var buf = new Uint8Array(total);
    buf.set(bytes);
    buf[bytes.length] = 0x80;
    var view = new DataView(buf.buffer);
    var bits = bytes.length * 8;
    view.setUint32(total - 8, Math.floor(bits / 0x100000000));
    view.setUint32(total - 4, bits >>> 0);
    var h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    var w = new Uint32Array(64);
    for (var off = 0; off < total; off += 64) {
      var i;
      for (i = 0; i < 16; i++) { w[i] = view.getUint32(off + i * 4); }
      for (i = 16; i < 64; i++) {
        var s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >>> 3);
        var s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >>> 10);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
      }
      var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
      for (i = 0; i < 64; i++) {
        var t1 = (k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) >>> 0;
        var t2 = ((ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
        k = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
      }
      h = [(h[0] + a) >>> 0, (h[1] + b) >>> 0, (h[2] + c) >>> 0, (h[3] + d) >>> 0,
           (h[4] + e) >>> 0, (h[5] + f) >>> 0, (h[6] + g) >>> 0, (h[7] + k) >>> 0];
    }
    return h.map(function (x) { return ("00000000" + x.toString(16)).slice(-8); }).join("");
  }

  function commitment(digits, salt) { return sha256Hex(salt + "|" + digits); }

  function randomSalt() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function storeKey(drawId) { return "shuangsui-draw-" + drawId; }
  function load(drawId) {
    try { return JSON.parse(window.sessionStorage.getItem(storeKey(drawId)) || "{}"); } catch (e) { return {}; }
  }
  function save(drawId, data) {
    try { window.sessionStorage.setItem(storeKey(drawId), JSON.stringify(data)); } catch (e) { /* private mode */ }
  }

  /* ---- stage 2: commitments ---- */
  function setUpCommit(form) {
    var drawId = form.getAttribute("data-draw-id");
    var rows = form.querySelectorAll("[data-participant]");
    Array.prototype.forEach.call(rows, function (row) {
      var digits = row.querySelector("[data-digits]");
      var salt = row.querySelector("[data-salt]");
      var out = row.querySelector("[data-commitment]");
      var status = row.querySelector("[data-commit-status]");
      if (!salt.value) { salt.value = randomSalt(); }
      function update() {
        var d = digits.value.trim();
        if (/^[0-9]+$/.test(d) && salt.value.length >= 8) {
          out.value = commitment(d, salt.value);
          status.textContent = "已生成承诺值（" + d.length + " 位数字，未显示）";
          row.classList.add("done");
        } else {
          if (d) { out.value = ""; }
          status.textContent = d ? "随机数只能由数字 0–9 组成" : "";
          row.classList.remove("done");
        }
      }
      digits.addEventListener("input", update);
      salt.addEventListener("input", update);
      update();
    });
    form.addEventListener("submit", function () {
      var kept = {};
      Array.prototype.forEach.call(rows, function (row) {
        var role = row.querySelector("[data-role]").value;
        var name = row.querySelector("[data-name]").value.trim();
        var digits = row.querySelector("[data-digits]").value.trim();
        var salt = row.querySelector("[data-salt]").value;
        if (name && digits) { kept[role + "|" + name] = { digits: digits, salt: salt }; }
      });
      save(drawId, kept);
    });
  }

  /* ---- stage 3: reveal ---- */
  function setUpReveal(form) {
    var drawId = form.getAttribute("data-draw-id");
    var kept = load(drawId);
    var rows = form.querySelectorAll("[data-reveal]");
    Array.prototype.forEach.call(rows, function (row) {
      var key = row.getAttribute("data-role") + "|" + row.getAttribute("data-name");
      var promised = row.getAttribute("data-commitment");
      var digits = row.querySelector("[data-digits]");
      var salt = row.querySelector("[data-salt]");
      var status = row.querySelector("[data-check]");
      if (kept[key]) {
        if (!digits.value) { digits.value = kept[key].digits; }
        if (!salt.value) { salt.value = kept[key].salt; }
      }
      function check() {
        if (!digits.value || !salt.value) { status.textContent = ""; return; }
        var ok = commitment(digits.value.trim(), salt.value.trim()) === promised;
        status.textContent = ok ? "✓ 与承诺值一致" : "✗ 与承诺值不一致";
        status.className = ok ? "badge badge-green" : "badge badge-red";
      }
      digits.addEventListener("input", check);
      salt.addEventListener("input", check);
      check();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var commitForm = document.querySelector("form[data-commit-form]");
    if (commitForm) { setUpCommit(commitForm); }
    var revealForm = document.querySelector("form[data-reveal-form]");
    if (revealForm) { setUpReveal(revealForm); }
    var done = document.querySelector("[data-seed-fixed]");
    if (done) {
      try { window.sessionStorage.removeItem(storeKey(done.getAttribute("data-seed-fixed"))); } catch (e) { /* ignore */ }
    }
  });

  window.shuangsuiSha256Hex = sha256Hex;
})();
