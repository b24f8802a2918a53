/* Checking a draw in the visitor's browser, from the public record alone (/draws/<id>).
 *
 * Needs draw.js first (its SHA-256, window.shuangsuiSha256Hex, used over plain HTTP); over HTTPS
 * the browser's own WebCrypto computes the hashes. The rules are gateway/draw/sampler.py's:
 *   seed      = the contributions' digits, by their order, joined with "-"
 *   ticket(x) = "0." + reversed(64-digit decimal of SHA-256(hex SHA-256(seed) + x))
 *   a stratum draws the ceil(ratio × N) targets with the smallest tickets (ties: the smaller id).
 * A stratum is 一致 when its population matches its population_sha256, its sample size is that
 * ceiling and its selected list is exactly the recomputed one (as `shuangsui verify` says).
 */
(function () {
  "use strict";

  var TICKET_DIGITS = 78;
  var encoder = new TextEncoder();
  var useWebCrypto = !!(window.isSecureContext && window.crypto && window.crypto.subtle);

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  /* SHA-256 of the UTF-8 bytes of text, lower-case hex, as a promise. */
  function sha256(text) {
    if (useWebCrypto) { return window.crypto.subtle.digest("SHA-256", encoder.encode(text)).then(hex); }
    return Promise.resolve(window.shuangsuiSha256Hex(text));
  }

  function seedOf(record) {
    return record.contributions.slice().sort(function (a, b) { return a.order - b.order; })
      .map(function (c) { return c.digits; }).join("-");
  }

  /* The ticket's digits (reversed decimal of the hash, at least 64 digits). */
  function ticketDigits(prefix, id) {
    return sha256(prefix + id).then(function (h) {
      var decimal = BigInt("0x" + h).toString();
      while (decimal.length < 64) { decimal = "0" + decimal; }
      return decimal.split("").reverse().join("");
    });
  }

  function keyOf(digits) { while (digits.length < TICKET_DIGITS) { digits += "0"; } return digits; }

  /* ceil(ratio × n), exactly, for a decimal ratio string such as "0.05". */
  function sampleSize(ratio, n) {
    var parts = ratio.split(".");
    var decimals = parts[1] || "";
    var num = BigInt(parts[0] + decimals), den = BigInt("1" + "0".repeat(decimals.length));
    return Number((num * BigInt(n) + den - 1n) / den);
  }

  function Checker(record) {
    this.record = record;
    this.seed = seedOf(record);
    this.tickets = {};
    this.prefix = sha256(this.seed);
  }
  Checker.prototype.ticket = function (id) {
    var self = this;
    if (!self.tickets[id]) { self.tickets[id] = self.prefix.then(function (p) { return ticketDigits(p, id); }); }
    return self.tickets[id];
  };
  /* The stratum's recomputed selection: ids in ticket order, with their ticket digits. */
  Checker.prototype.draw = function (stratum) {
    var self = this, k = sampleSize(stratum.ratio, stratum.population.length);
    return Promise.all(stratum.population.map(function (id) { return self.ticket(id); })).then(function (digits) {
      var entries = stratum.population.map(function (id, i) { return keyOf(digits[i]) + id; });
      entries.sort();
      return { size: k, selected: entries.slice(0, k).map(function (e) { return e.slice(TICKET_DIGITS); }) };
    });
  };
  Checker.prototype.checkStratum = function (stratum) {
    var reasons = [];
    return Promise.all([sha256(JSON.stringify(stratum.population)), this.draw(stratum)]).then(function (out) {
      if (out[0] !== stratum.population_sha256) { reasons.push("对象名单与本层公布的摘要不符"); }
      if (out[1].size !== stratum.sample_size) { reasons.push("应抽取 " + out[1].size + " 户，记录为 " + stratum.sample_size + " 户"); }
      if (out[1].selected.join("|") !== stratum.selected.join("|")) { reasons.push("抽中名单与重新计算的结果不同"); }
      return { key: stratum.key, ok: reasons.length === 0, reasons: reasons };
    });
  };

  function text(tag, content, cls) {
    var el = document.createElement(tag);
    el.textContent = content;
    if (cls) { el.className = cls; }
    return el;
  }

  var labels = {};
  function strataLabel(root, key) { return labels[key] || key; }

  function runVerify(root, checker, out) {
    out.textContent = "正在重新计算……";
    var strata = checker.record.strata;
    Promise.all(strata.map(function (s) { return checker.checkStratum(s); })).then(function (results) {
      out.textContent = "";
      var all = results.every(function (r) { return r.ok; });
      out.appendChild(text("p", all ? "结论：一致。按公开的随机种子重新计算，每一层抽中的企业都与公布的结果相同。"
                                    : "结论：不一致。下列标为“不一致”的分层与公布的结果不同。", all ? "verdict ok" : "verdict bad"));
      var table = document.createElement("table");
      table.className = "table";
      table.id = "verify-strata";
      var head = table.createTHead().insertRow();
      ["分层", "结果", "说明"].forEach(function (h) { var th = document.createElement("th"); th.scope = "col"; th.textContent = h; head.appendChild(th); });
      var body = table.createTBody();
      results.forEach(function (r) {
        var row = body.insertRow();
        row.setAttribute("data-key", r.key);
        row.insertCell().textContent = strataLabel(root, r.key);
        row.insertCell().appendChild(text("span", r.ok ? "一致" : "不一致", r.ok ? "badge badge-green" : "badge badge-red"));
        row.insertCell().textContent = r.reasons.join("；") || "—";
      });
      var wrap = document.createElement("div");
      wrap.className = "table-wrap";
      wrap.appendChild(table);
      out.appendChild(wrap);
    }, function (error) { out.textContent = "无法完成验证：" + error; });
  }

  function findUscc(names, query) {
    var squeezed = query.replace(/\s+/g, "").toUpperCase();
    /* The page names the drawn targets only: any 18-character credit code is looked up in the strata. */
    if (names[squeezed] !== undefined || /^[0-9A-Z]{18}$/.test(squeezed)) { return [squeezed]; }
    var found = [];
    Object.keys(names).forEach(function (uscc) { if (names[uscc].indexOf(query.trim()) !== -1) { found.push(uscc); } });
    return found;
  }

  function runLookup(root, checker, names, query, out) {
    out.textContent = "";
    var found = query.trim() ? findUscc(names, query) : [];
    if (found.length !== 1) {
      out.appendChild(text("p", found.length ? "有 " + found.length + " 家企业名称包含“" + query.trim() + "”，请输入更完整的名称或统一社会信用代码。"
                                            : "本次抽取的对象范围中没有找到“" + query.trim() + "”。请核对名称或 18 位统一社会信用代码。"));
      return;
    }
    var uscc = found[0];
    var strata = checker.record.strata.filter(function (s) { return s.population.indexOf(uscc) !== -1; });
    out.appendChild(text("p", (names[uscc] || "") + "（" + uscc + "）在本次抽取的 " + strata.length + " 个分层中："));
    var list = document.createElement("ul");
    list.id = "lookup-strata";
    out.appendChild(list);
    strata.forEach(function (s) {
      var item = document.createElement("li");
      item.setAttribute("data-key", s.key);
      list.appendChild(item);
      checker.draw(s).then(function (res) {
        var last = res.selected[res.selected.length - 1];
        return Promise.all([checker.ticket(uscc), last === undefined ? null : checker.ticket(last), res]);
      }).then(function (out) {
        var drawn = s.selected.indexOf(uscc) !== -1;
        item.setAttribute("data-drawn", drawn ? "yes" : "no");
        item.appendChild(text("strong", strataLabel(root, s.key) + "："));
        item.appendChild(text("span", drawn ? "被抽中" : "未被抽中", drawn ? "badge badge-red" : "badge badge-green"));
        var detail = " 本企业的抽签值 0." + out[0].slice(0, 12) + "…；本层应抽 " + out[2].size + " 户，";
        detail += out[1] === null ? "本层不抽取。"
          : "分界（抽中者中最大的抽签值）0." + out[1].slice(0, 12) + "…。抽签值不大于分界的企业被抽中。";
        item.appendChild(text("span", detail, "small"));
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("check-draw");
    if (!root) { return; }
    var names = JSON.parse(document.getElementById("draw-names").textContent || "{}");
    labels = JSON.parse(document.getElementById("draw-strata").textContent || "{}");
    var checker = null;
    function withRecord(then) {
      if (checker) { then(checker); return; }
      fetch(root.getAttribute("data-record-url"), { headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
        .then(function (record) { checker = new Checker(record); then(checker); });
    }
    root.hidden = false;
    document.getElementById("verify-engine").textContent = useWebCrypto ? "浏览器自带的 WebCrypto" : "本页自带的 SHA-256 程序";
    document.getElementById("lookup-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var query = document.getElementById("lookup-q").value;
      withRecord(function (c) { runLookup(root, c, names, query, document.getElementById("lookup-out")); });
    });
    document.getElementById("verify-run").addEventListener("click", function () {
      withRecord(function (c) { runVerify(root, c, document.getElementById("verify-out")); });
    });
  });
})();
