/* Checking a draw in the visitor's browser, from the public record alone (/draws/<id>).
 *
 * Needs draw.js first (its SHA-256, window.shuangsuiSha256Hex, used over plain HTTP); over HTTPS
 * the browser's own WebCrypto computes the hashes. The rules are gateway/draw/sampler.py's:
 *   seed      = the contributions' digits, by their order, joined with "-"
 *   ticket(x) = "0." + reversed(64-digit decimal of SHA-256(hex SHA-256(seed) + x))
 *   a stratum draws the ceil(ratio × N) targets with the smallest tickets (ties: the smaller id).
 * A stratum is 一致 when its population matches its population_sha256, its sample size is that
 * ceiling and its selected list is exactly the recomputed one (as `shuangsui verify` says).
 *
 * A shuangsui.draw/2 record is checked per stratum: the small index first, then each stratum's
 * part (or a large stratum's chunks) in turn (a province's whole record is hundreds of
 * megabytes): each part's text against its SHA-256 in the index (a changed part is named), the
 * entry against its descriptor, then the stratum re-drawn; the descriptors against
 * strata_sha256, which ties each stratum to the populations frozen before the draw. The lookup
 * fetches only the parts whose credit-code range holds the enterprise. A version 1 record is
 * fetched whole.
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

  /* record: a whole version 1 record, or a version 2 index (its strata come from fetchPart, its
   * exclusions parts, if any, from fetchExclusions). */
  function Checker(record, fetchPart, fetchExclusions) {
    this.record = record;
    this.seed = seedOf(record);
    this.tickets = {};
    this.prefix = sha256(this.seed);
    this.split = record.format === "shuangsui.draw/2";
    this.fetchPart = fetchPart;
    this.fetchExclusions = fetchExclusions;
  }
  /* The strata, one at a time: each is handed to visit(stratum or null, descriptor, reasons) in
   * order, and the next part is fetched only when visit's promise settles. For a version 2
   * record, reasons already holds what is wrong with the part itself (its hash, its descriptor). */
  Checker.prototype.eachStratum = function (visit) {
    var self = this;
    if (!self.split) {
      return self.record.strata.reduce(function (done, s) { return done.then(function () { return visit(s, null, []); }); },
                                       Promise.resolve());
    }
    return self.record.parts.strata.reduce(function (done, d) {
      return done.then(function () { return d.chunks ? self.chunkedStratum(d) : self.wholeStratum(d); })
        .then(function (got) { return visit(got.stratum, d, got.reasons); });
    }, Promise.resolve());
  };
  /* One part's text, checked against its SHA-256 in the index: {body, reasons}. A stratum's part
   * by default; an exclusions part with fetch = this.fetchExclusions, name = "排除分块". */
  Checker.prototype.fetchChecked = function (part, fetch, name) {
    var label = (name || "分块") + " " + part.part;
    return (fetch || this.fetchPart)(part.part).then(function (body) {
      return sha256(body).then(function (digest) {
        return { body: body, reasons: digest === part.sha256 ? [] : [label + " 内容与索引中的 SHA-256 不符，该分块被改动"] };
      });
    });
  };
  /* Whether a part's population starts and ends with the codes the index gives it (the lookup
   * trusts them to skip the parts that cannot hold an enterprise). */
  function rangeOk(part, population) {
    return population[0] === part.first && population[population.length - 1] === part.last;
  }
  /* A stratum in one part: its entry, and what is wrong with the part itself. */
  Checker.prototype.wholeStratum = function (d) {
    return this.fetchChecked(d).then(function (got) {
      var reasons = got.reasons.length ? ["分块内容与索引中的 SHA-256 不符，该分块被改动"] : [];
      var stratum = null;
      try { stratum = JSON.parse(got.body); } catch (e) { reasons.push("分块不是有效的 JSON"); }
      if (stratum) {
        ["key", "ratio", "sample_size", "population_sha256"].forEach(function (name) {
          if (stratum[name] !== d[name]) { reasons.push("索引中的 " + name + " 与分块不符"); }
        });
        if (!Array.isArray(stratum.population) || stratum.population.length !== d.population_size) {
          reasons.push("索引中的 population_size 与分块不符");
        } else if (d.first !== undefined && !rangeOk(d, stratum.population)) {
          reasons.push("索引中的 first、last 与分块不符");
        }
      }
      return { stratum: stratum, reasons: reasons };
    });
  };
  /* A large stratum, its chunks fetched in turn and put together: population in credit-code
   * order; selected, a set (each chunk lists its own members' selection). */
  Checker.prototype.chunkedStratum = function (d) {
    var self = this, reasons = [];
    var stratum = { key: d.key, matter: d.matter, ratio: d.ratio, population_sha256: d.population_sha256,
                    sample_size: d.sample_size, population: [], selected: [], chunked: true };
    return d.chunks.reduce(function (done, part, i) {
      return done.then(function () { return self.fetchChecked(part); }).then(function (got) {
        reasons = reasons.concat(got.reasons);
        var chunk = null;
        try { chunk = JSON.parse(got.body); } catch (e) { reasons.push("分块 " + part.part + " 不是有效的 JSON"); return; }
        if (chunk.chunk !== i + 1 || chunk.key !== d.key || !Array.isArray(chunk.population) || !Array.isArray(chunk.selected)) {
          reasons.push("分块 " + part.part + " 不是本分层的第 " + (i + 1) + " 块");
          return;
        }
        if (chunk.population.length !== part.count || !rangeOk(part, chunk.population)) {
          reasons.push("索引中分块 " + part.part + " 的 count、first、last 与分块不符");
        }
        Array.prototype.push.apply(stratum.population, chunk.population);
        Array.prototype.push.apply(stratum.selected, chunk.selected);
      });
    }, Promise.resolve()).then(function () {
      if (stratum.population.length !== d.population_size) { reasons.push("索引中的 population_size 与分块不符"); }
      return { stratum: stratum, reasons: reasons };
    });
  };
  /* Whether the index's descriptors hash to its strata_sha256 (a version 2 record). */
  Checker.prototype.chainOk = function () {
    var chain = this.record.parts.strata.map(function (d) {
      return { key: d.key, population_sha256: d.population_sha256, ratio: d.ratio };
    });
    var expected = this.record.strata_sha256;
    return sha256(JSON.stringify(chain)).then(function (h) { return h === expected; });
  };
  Checker.prototype.ticket = function (id) {
    var self = this;
    if (!self.tickets[id]) { self.tickets[id] = self.prefix.then(function (p) { return ticketDigits(p, id); }); }
    return self.tickets[id];
  };
  /* The stratum's recomputed selection: ids in ticket order, with their ticket digits. */
  Checker.prototype.draw = function (stratum) {
    var self = this, k = sampleSize(stratum.ratio, stratum.population.length);
    /* Not cached: kept across strata, the tickets would grow with the whole population. */
    return self.prefix.then(function (p) {
      return Promise.all(stratum.population.map(function (id) { return ticketDigits(p, id); }));
    }).then(function (digits) {
      var entries = stratum.population.map(function (id, i) { return keyOf(digits[i]) + id; });
      entries.sort();
      return { size: k, selected: entries.slice(0, k).map(function (e) { return e.slice(TICKET_DIGITS); }) };
    });
  };
  Checker.prototype.checkStratum = function (stratum, known) {
    var reasons = (known || []).slice();
    return Promise.all([sha256(JSON.stringify(stratum.population)), this.draw(stratum)]).then(function (out) {
      if (out[0] !== stratum.population_sha256) { reasons.push("对象名单与本层公布的摘要不符"); }
      if (out[1].size !== stratum.sample_size) { reasons.push("应抽取 " + out[1].size + " 户，记录为 " + stratum.sample_size + " 户"); }
      /* A large stratum's selection comes chunk by chunk: the same set is the same selection. */
      var recorded = stratum.chunked ? stratum.selected.slice().sort() : stratum.selected;
      var computed = stratum.chunked ? out[1].selected.slice().sort() : out[1].selected;
      if (computed.join("|") !== recorded.join("|")) { reasons.push("抽中名单与重新计算的结果不同"); }
      return { key: stratum.key, ok: reasons.length === 0, reasons: reasons };
    });
  };

  function text(tag, content, cls) {
    var el = document.createElement(tag);
    el.textContent = content;
    if (cls) { el.className = cls; }
    return el;
  }

  var labels = {}, exclusionLabels = { reasons: {}, matters: {} };
  function strataLabel(root, key) { return labels[key] || key; }

  function runVerify(root, checker, out) {
    out.textContent = "正在重新计算……";
    verifyAll(checker).then(function (outcome) {
      var results = outcome.results;
      out.textContent = "";
      var all = outcome.ok;
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
      if (outcome.chain !== null) {
        out.appendChild(text("p", "分层摘要链：" + (outcome.chain ? "一致（每一层的对象名单都与抽取前冻结的名单相连）"
                                                             : "不符（索引中的分层与抽取前冻结的摘要不符）")));
      }
      out.appendChild(wrap);
    }, function (error) { out.textContent = "无法完成验证：" + error; });
  }

  /* Every stratum checked, one part at a time: {ok, chain (null for version 1), results}. */
  function verifyAll(checker) {
    var results = [];
    return checker.eachStratum(function (stratum, descriptor, reasons) {
      if (!stratum || !Array.isArray(stratum.population) || !Array.isArray(stratum.selected)) {
        results.push({ key: descriptor ? descriptor.key : String(stratum && stratum.key), ok: false,
                       reasons: reasons.concat(["分层格式错误"]) });
        return null;
      }
      return checker.checkStratum(stratum, reasons).then(function (r) { results.push(r); });
    }).then(function () {
      return checker.split ? checker.chainOk() : null;
    }).then(function (chain) {
      var ok = chain !== false && results.every(function (r) { return r.ok; });
      return { ok: ok, chain: chain, results: results };
    });
  }

  /* The strata whose population holds uscc. Of a split record only the parts whose credit-code
   * range (first, last in the index) holds it are fetched, each checked against its SHA-256: one
   * part per stratum at most. A found stratum gives its key, selected (of that part) and, for a
   * large stratum, the index's sample size and last selected code (no need to draw it again). */
  function strataOf(checker, uscc) {
    var found = [];
    if (!checker.split) {
      return checker.eachStratum(function (stratum) {
        if (stratum && Array.isArray(stratum.population) && stratum.population.indexOf(uscc) !== -1) { found.push(stratum); }
      }).then(function () { return found; });
    }
    return checker.record.parts.strata.reduce(function (done, d) {
      var parts = (d.chunks || [d]).filter(function (p) {
        return p.first === undefined || (p.first <= uscc && uscc <= p.last);
      });
      return parts.reduce(function (inner, part) {
        return inner.then(function () { return checker.fetchChecked(part); }).then(function (got) {
          var entry = null;
          try { entry = JSON.parse(got.body); } catch (e) { return; }
          if (got.reasons.length || !Array.isArray(entry.population) || entry.population.indexOf(uscc) === -1) { return; }
          if (d.chunks) { entry = { key: d.key, selected: entry.selected, size: d.sample_size, last: d.last_selected }; }
          found.push(entry);
        });
      }, done);
    }, Promise.resolve()).then(function () { return found; });
  }

  /* Why the draw left uscc out, if it did: {exclusions, reasons}. A record with exclusions parts
   * fetches only those whose range (first, last) holds the code, each checked against its SHA-256
   * (older records' parts have no range: all are fetched); otherwise the index lists them. */
  function exclusionsOf(checker, uscc) {
    var parts = checker.split && checker.record.parts.exclusions || [];
    var out = { exclusions: [], reasons: [] };
    function mine(list) {
      (Array.isArray(list) ? list : []).forEach(function (e) { if (e && e.uscc === uscc) { out.exclusions.push(e); } });
    }
    if (!parts.length) { mine(checker.record.exclusions); return Promise.resolve(out); }
    return parts.filter(function (p) { return p.first === undefined || (p.first <= uscc && uscc <= p.last); })
      .reduce(function (done, part) {
        return done.then(function () { return checker.fetchChecked(part, checker.fetchExclusions, "排除分块"); })
          .then(function (got) {
            if (got.reasons.length) { out.reasons = out.reasons.concat(got.reasons); return; }
            try { mine(JSON.parse(got.body).exclusions); } catch (e) { out.reasons.push("排除分块 " + part.part + " 格式错误"); }
          });
      }, Promise.resolve()).then(function () { return out; });
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
    out.appendChild(text("p", "正在查找……"));
    Promise.all([strataOf(checker, uscc), exclusionsOf(checker, uscc)]).then(function (found) {
      showLookup(root, checker, names, uscc, found[0], out);
      showExclusions(root, found[1], out);
    }, function (error) { out.textContent = "无法完成查找：" + error; });
  }

  /* The enterprise's exclusions, each with its reason and matter, as the draw page's table says them. */
  function showExclusions(root, found, out) {
    found.reasons.forEach(function (reason) { out.appendChild(text("p", reason, "notice")); });
    if (!found.exclusions.length) { return; }
    out.appendChild(text("p", "本企业未纳入以下抽取范围："));
    var list = document.createElement("ul");
    list.id = "lookup-exclusions";
    out.appendChild(list);
    found.exclusions.forEach(function (e) {
      var item = text("li", (e.matter ? (exclusionLabels.matters[e.matter] || e.matter) : "全部事项") + "："
                            + (exclusionLabels.reasons[e.reason] || e.reason));
      item.setAttribute("data-reason", e.reason);
      list.appendChild(item);
    });
  }

  function showLookup(root, checker, names, uscc, strata, out) {
    out.textContent = "";
    out.appendChild(text("p", (names[uscc] || "") + "（" + uscc + "）在本次抽取的 " + strata.length + " 个分层中："));
    var list = document.createElement("ul");
    list.id = "lookup-strata";
    out.appendChild(list);
    strata.forEach(function (s) {
      var item = document.createElement("li");
      item.setAttribute("data-key", s.key);
      list.appendChild(item);
      var drawn = s.last !== undefined ? Promise.resolve({ size: s.size, selected: s.last === null ? [] : [s.last] })
                                       : checker.draw(s);
      drawn.then(function (res) {
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

  window.shuangsuiVerify = { Checker: Checker, verifyAll: verifyAll, strataOf: strataOf, exclusionsOf: exclusionsOf };

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("check-draw");
    if (!root) { return; }
    var names = JSON.parse(document.getElementById("draw-names").textContent || "{}");
    labels = JSON.parse(document.getElementById("draw-strata").textContent || "{}");
    exclusionLabels = JSON.parse(document.getElementById("draw-exclusion-labels").textContent || "{}");
    var checker = null;
    function get(url, asText) {
      return fetch(url, { headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return asText ? r.text() : r.json(); });
    }
    function fetchPart(number) { return get(root.getAttribute("data-part-url") + number, true); }
    function fetchExclusions(number) { return get(root.getAttribute("data-exclusions-url") + number, true); }
    function withRecord(then) {
      if (checker) { then(checker); return; }
      /* The index when the record is split (shuangsui.draw/2), else the whole version 1 record. */
      get(root.getAttribute("data-index-url"))
        .then(function (index) { return index.format === "shuangsui.draw/2" ? index : Promise.reject(); })
        .catch(function () { return get(root.getAttribute("data-record-url")); })
        .then(function (record) { checker = new Checker(record, fetchPart, fetchExclusions); then(checker); });
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
