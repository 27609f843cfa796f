/* Segment builder: edits a rule tree from the catalogue and shows count, funnel, profile
   and sample from /api/segments/evaluate, debounced, without reloading the page.
   The tree model: group {kind:"group", mode:"all"|"any", negate, children}
                   leaf  {kind:"field"|"usage"|"in_list"|"in_segment"|"contacted", negate, ...} */
(function () {
  "use strict";
  var root = document.getElementById("segment-builder");
  if (!root) { return; }
  var T = JSON.parse(root.dataset.i18n || "{}");
  var CSRF = root.dataset.csrf || "";
  var segment = JSON.parse(root.dataset.segment || "null");
  var canWrite = !!root.dataset.canWrite;
  var catalogue = {fields: [], metrics: []};
  var fieldsByName = {};
  var metricsByName = {};
  var segments = [];
  var templates = [];
  var tree = null;
  var timer = null;
  var seq = 0;
  var charts = {};

  function t(key) { return T[key] || key; }
  // operators and values in the reader's words; unknown ones as they are
  function opWord(op) { return T["op_" + op] || op; }
  function valueWord(v) { return T["v_" + v] || v; }
  // a coded value of field f (tier, status, payment type, gender) as the catalogue words it
  function valueLabel(f, v) {
    return (f && f.value_labels && f.value_labels[v]) || valueWord(v);
  }

  // The number typed in a number box, as typed: 0 or 14.5 days, 30.5 years on a
  // whole-number field go to the server, which names what is wrong with them ("value 30.5
  // is not a whole number", the API's own words); rounding here would count a rule the
  // user did not write. undefined while the box is empty: the rule is unfinished.
  function numberOrUndefined(text) {
    var shown = String(text).trim();
    if (shown === "") { return undefined; }
    var n = Number(shown);
    return isFinite(n) ? n : shown;
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (k.indexOf("on") === 0) { node.addEventListener(k.slice(2), attrs[k]); }
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) {
        node.setAttribute(k, attrs[k]);
      }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function api(method, url, body) {
    var opts = {method: method, headers: {"X-CSRF-Token": CSRF}, credentials: "same-origin"};
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(url, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) {
          var err = new Error(data.message || ("HTTP " + r.status));
          err.field = data.field;  // for rule errors: the node's path, e.g. all[0].not
          throw err;
        }
        return data;
      });
    });
  }

  /* ---- rule JSON <-> tree ---------------------------------------------------------- */
  function fromRule(rule, negate) {
    negate = !!negate;
    if (rule && rule.not) { return fromRule(rule.not, !negate); }
    if (rule && (rule.all || rule.any)) {
      var mode = rule.all ? "all" : "any";
      return {kind: "group", mode: mode, negate: negate,
              children: (rule[mode] || []).map(function (c) { return fromRule(c); })};
    }
    var leaf = {negate: negate};
    if ("field" in rule) {
      leaf.kind = "field"; leaf.field = rule.field; leaf.op = rule.op; leaf.value = rule.value;
    } else if ("usage" in rule) {
      leaf.kind = "usage"; leaf.usage = rule.usage; leaf.days = rule.days; leaf.op = rule.op;
      leaf.value = rule.value;
    } else if ("in_list" in rule) {
      leaf.kind = "in_list"; leaf.ref = rule.in_list;
    } else if ("in_segment" in rule) {
      leaf.kind = "in_segment"; leaf.ref = rule.in_segment;
    } else if ("contacted" in rule) {
      leaf.kind = "contacted"; leaf.days = rule.contacted.days;
      leaf.channel = rule.contacted.channel || "";
    }
    return leaf;
  }

  function typeOf(leaf) {
    if (leaf.kind === "usage") { return "float"; }
    var f = fieldsByName[leaf.field];
    return f ? f.type : "str";
  }

  function convert(raw, type) {
    if (raw === "" || raw === null || raw === undefined) { return undefined; }
    if (type === "int" || type === "float") { return numberOrUndefined(raw); }
    if (type === "bool") { return raw === "true" || raw === true; }
    return String(raw).trim();
  }

  function complete(leaf) {
    if (leaf.kind === "field" || leaf.kind === "usage") {
      if (!leaf.op || (leaf.kind === "field" && !leaf.field) || (leaf.kind === "usage" && (!leaf.usage || leaf.days === undefined))) { return false; }
      if (leaf.op === "is_null") { return true; }
      if (Array.isArray(leaf.value)) {
        return leaf.value.length > 0 && leaf.value.every(function (v) { return v !== undefined && v !== ""; });
      }
      return leaf.value !== undefined && leaf.value !== null && leaf.value !== "";
    }
    // A typed 0 is sent as it is, so the server's range message names it.
    if (leaf.kind === "contacted") { return leaf.days !== undefined; }
    return leaf.ref !== undefined && leaf.ref !== "";
  }

  var where = {};  // rule path as the server names it (all[0].not) -> tree node
  var unfinished = [];  // leaves left out of the last rule built: no value, field or list yet
  function join(path, part) { return path ? path + "." + part : part; }

  function toRule(node, params, path) {
    var out;
    var inner = node.negate ? join(path || "", "not") : (path || "");
    where[inner] = node;
    if (path) { where[path] = node; }
    if (node.kind === "group") {
      var kids = [];
      node.children.forEach(function (c) {
        var k = toRule(c, params, join(inner, node.mode + "[" + kids.length + "]"));
        if (k !== null) { kids.push(k); }
      });
      if (node.mode === "any" && kids.length === 0) { return null; }
      out = {}; out[node.mode] = kids;
    } else {
      // a template parameter needs no value now: marketers fill it in later
      var asParam = !!(params && node.param && node.op && (node.field || node.usage));
      if (!complete(node) && !asParam) { unfinished.push(node); return null; }
      if (node.kind === "field" || node.kind === "usage") {
        out = node.kind === "field" ? {field: node.field} : {usage: node.usage, days: node.days};
        out.op = node.op;
        if (node.op !== "is_null") {
          if (asParam) {
            // `between` needs two values, so two parameters (from, to); `in`/`not_in` a
            // list, of one parameter. Each labelled as the marketer reads the rule.
            var newParam = function (label) {
              var name = "p" + (Object.keys(params).length + 1);
              params[name] = {type: typeOf(node), label: label};
              return "{" + name + "}";
            };
            var label = paramLabel(node);
            if (node.op === "between") {
              out.value = [newParam(label + ": " + t("param_from")), newParam(label + ": " + t("param_to"))];
            } else if (node.op === "in" || node.op === "not_in") {
              out.value = [newParam(label)];
            } else {
              out.value = newParam(label);
            }
          } else {
            out.value = node.value;
          }
        }
      } else if (node.kind === "in_list" || node.kind === "in_segment") {
        out = {};
        out[node.kind] = /^\d+$/.test(String(node.ref)) ? parseInt(node.ref, 10) : node.ref;
      } else {
        out = {contacted: {days: node.days}};
        if (node.channel) { out.contacted.channel = node.channel; }
      }
    }
    return node.negate ? {not: out} : out;
  }

  // a template parameter's label: the field or metric as the builder names it (with the
  // window for usage), not its code
  function paramLabel(node) {
    if (node.kind === "usage") {
      var m = metricsByName[node.usage];
      return (m ? m.label : node.usage) + ", " + node.days + " " + t("days");
    }
    var f = fieldsByName[node.field];
    return f ? f.label : node.field;
  }

  function currentRule(params) {
    where = {}; unfinished = [];
    return toRule(tree, params, "") || {all: []};
  }

  // An unfinished rule is left out of the live count (the marketer is still typing), but
  // a segment saved without it would target more people than the rules on screen say:
  // saving waits until every rule is finished or removed.
  // true (and says why, in the result line `id`) when a rule on screen is unfinished
  function refuseUnfinished(id) {
    if (!unfinished.length) { return false; }
    unfinished.forEach(markBad);
    say(id, t("unfinished_save").replace("{n}", unfinished.length), true);
    return true;
  }

  function markBad(node) {
    if (node && node.dom) { node.dom.classList.add("sb-bad"); node.dom.setAttribute("aria-invalid", "true"); }
  }

  /* ---- rendering the tree ------------------------------------------------------------ */
  function option(value, label, selected) {
    return el("option", {value: value, selected: selected ? "selected" : null, text: label});
  }

  function select(options, value, onchange, attrs) {
    var s = el("select", Object.assign({onchange: onchange}, attrs || {}));
    options.forEach(function (o) { s.appendChild(option(o[0], o[1], String(o[0]) === String(value))); });
    return s;
  }

  function valueInputs(leaf) {
    var type = typeOf(leaf);
    var f = leaf.kind === "field" ? fieldsByName[leaf.field] : null;
    var allowed = f && f.values;
    // region fields: the loaded codes offered with their names (any other is refused)
    var suggest = f && f.regions ? "sb-regions-" + f.name : null;
    function input(val, onset, testid) {
      if (allowed && leaf.op !== "in" && leaf.op !== "not_in") {
        return select([["", t("choose")]].concat(allowed.map(function (v) { return [v, valueLabel(f, v)]; })),
                      val, function (e) { onset(e.target.value || undefined); changed(); },
                      {"data-testid": testid});
      }
      if (type === "bool") {
        return select([["", t("choose")], ["true", t("yes")], ["false", t("no")]],
                      val === undefined ? "" : String(val),
                      function (e) { onset(convert(e.target.value, "bool")); changed(); },
                      {"data-testid": testid});
      }
      return el("input", {type: type === "date" ? "date" : (type === "int" || type === "float") ? "number" : "text",
                          step: type === "float" ? "any" : null, value: val === undefined ? "" : val,
                          "data-testid": testid, size: 10, list: suggest,
                          oninput: function (e) { onset(convert(e.target.value, type)); changed(); }});
    }
    if (leaf.op === "is_null") { return []; }
    if (leaf.op === "between") {
      var v = Array.isArray(leaf.value) ? leaf.value : [undefined, undefined];
      leaf.value = v;
      return [input(v[0], function (x) { v[0] = x; }, "value-low"),
              input(v[1], function (x) { v[1] = x; }, "value-high")];
    }
    if (leaf.op === "in" || leaf.op === "not_in") {
      var shown = Array.isArray(leaf.value) ? leaf.value.join(", ") : "";
      return [el("input", {type: "text", value: shown, "data-testid": "value", size: 18,
                           placeholder: allowed ? allowed.join(", ") : "", list: suggest,
                           oninput: function (e) {
                             leaf.value = e.target.value.split(",").map(function (s) { return convert(s.trim(), type); })
                               .filter(function (s) { return s !== undefined; });
                             changed();
                           }})];
    }
    if (Array.isArray(leaf.value)) { leaf.value = leaf.value[0]; }
    return [input(leaf.value, function (x) { leaf.value = x; }, "value")];
  }

  function renderLeaf(leaf, parent) {
    var row = el("div", {"class": "sb-leaf" + (complete(leaf) ? "" : " sb-incomplete"), "data-testid": "leaf"});
    leaf.dom = row;
    var notBox = el("label", {}, [el("input", {type: "checkbox", checked: leaf.negate ? "checked" : null,
      onchange: function (e) { leaf.negate = e.target.checked; changed(); }}), document.createTextNode(t("not"))]);
    row.appendChild(notBox);
    row.appendChild(select([["field", t("field")], ["usage", t("usage")], ["in_list", t("in_list")],
                            ["in_segment", t("in_segment")], ["contacted", t("contacted")]],
      leaf.kind, function (e) {
        var k = e.target.value;
        Object.keys(leaf).forEach(function (key) { if (key !== "negate") { delete leaf[key]; } });
        leaf.kind = k;
        if (k === "usage") { leaf.days = 30; }
        if (k === "contacted") { leaf.days = 7; }
        render(); changed();
      }, {"data-testid": "leaf-kind"}));
    var hint = "";
    if (leaf.kind === "field") {
      var groups = {};
      catalogue.fields.forEach(function (f) { (groups[f.group] = groups[f.group] || []).push(f); });
      var fs = el("select", {"data-testid": "field", onchange: function (e) {
        leaf.field = e.target.value; leaf.op = undefined; leaf.value = undefined; render(); changed(); }});
      fs.appendChild(option("", t("choose"), !leaf.field));
      Object.keys(groups).forEach(function (g) {
        var og = el("optgroup", {label: groups[g][0].group_label || g});
        groups[g].forEach(function (f) { og.appendChild(option(f.name, f.label + " (" + f.name + ")", f.name === leaf.field)); });
        fs.appendChild(og);
      });
      row.appendChild(fs);
      var f = fieldsByName[leaf.field];
      if (f) {
        if (!leaf.op) { leaf.op = f.ops[0]; }
        row.appendChild(select(f.ops.map(function (o) { return [o, opWord(o)]; }), leaf.op,
          function (e) { leaf.op = e.target.value; render(); changed(); }, {"data-testid": "op"}));
        valueInputs(leaf).forEach(function (i) { row.appendChild(i); });
        hint = t("type") + ": " + t("type_" + f.type) + (f.unit ? ", " + t("unit") + ": " + t("unit_" + f.unit) : "") +
               // the word, and the code an "is one of" box takes
               (f.values ? ", " + t("values") + ": " + f.values.map(function (v) {
                 var word = valueLabel(f, v);
                 return word === v ? v : word + " (" + v + ")";
               }).join(", ") : "");
      }
    } else if (leaf.kind === "usage") {
      row.appendChild(select([["", t("choose")]].concat(catalogue.metrics.map(function (m) { return [m.name, m.label + " (" + m.name + ")"]; })),
        leaf.usage || "", function (e) { leaf.usage = e.target.value; render(); changed(); }, {"data-testid": "metric"}));
      row.appendChild(el("input", {type: "number", min: 1, max: 90, value: leaf.days === undefined ? "" : leaf.days, size: 4, "data-testid": "days",
        oninput: function (e) { leaf.days = numberOrUndefined(e.target.value); changed(); }}));
      row.appendChild(document.createTextNode(t("days")));
      var m = metricsByName[leaf.usage];
      if (m) {
        if (!leaf.op) { leaf.op = ">="; }
        row.appendChild(select(m.ops.map(function (o) { return [o, opWord(o)]; }), leaf.op,
          function (e) { leaf.op = e.target.value; render(); changed(); }, {"data-testid": "op"}));
        valueInputs(leaf).forEach(function (i) { row.appendChild(i); });
        hint = t("unit") + ": " + (m.unit_label || t("unit_" + m.unit));
      }
    } else if (leaf.kind === "in_list") {
      row.appendChild(el("input", {type: "text", value: leaf.ref === undefined ? "" : leaf.ref, placeholder: t("list_ref"),
        "data-testid": "list-ref", list: "sb-list-names", oninput: function (e) { leaf.ref = e.target.value.trim(); changed(); }}));
    } else if (leaf.kind === "in_segment") {
      row.appendChild(select([["", t("choose")]].concat(segments.map(function (s) { return [s.id, s.name]; })),
        leaf.ref === undefined ? "" : leaf.ref, function (e) { leaf.ref = e.target.value; changed(); }));
    } else if (leaf.kind === "contacted") {
      row.appendChild(el("input", {type: "number", min: 1, value: leaf.days === undefined ? "" : leaf.days, size: 4,
        oninput: function (e) { leaf.days = numberOrUndefined(e.target.value); changed(); }}));
      row.appendChild(document.createTextNode(t("days")));
      // the channels a contact can go out on (the rule refuses any other name)
      row.appendChild(select([["", t("channel")]].concat((catalogue.channels || []).map(function (c) { return [c, c]; })),
        leaf.channel || "", function (e) { leaf.channel = e.target.value; changed(); }, {"data-testid": "channel"}));
    }
    if (canWrite && (leaf.kind === "field" || leaf.kind === "usage") && leaf.op !== "is_null") {
      row.appendChild(el("label", {"class": "sb-hint"}, [el("input", {type: "checkbox", checked: leaf.param ? "checked" : null,
        onchange: function (e) { leaf.param = e.target.checked; }}), document.createTextNode(t("param"))]));
    }
    row.appendChild(el("button", {type: "button", "class": "sb-x", text: "×", title: t("remove"), "data-testid": "remove",
      onclick: function () { parent.children.splice(parent.children.indexOf(leaf), 1); render(); changed(); }}));
    if (hint) { row.appendChild(el("span", {"class": "sb-hint", text: hint})); }
    return row;
  }

  function renderGroup(group, parent) {
    var box = el("div", {"class": "sb-group" + (group.negate ? " sb-not" : ""), "data-testid": "group"});
    group.dom = box;
    var head = el("div", {"class": "sb-head"});
    head.appendChild(el("label", {}, [el("input", {type: "checkbox", checked: group.negate ? "checked" : null,
      onchange: function (e) { group.negate = e.target.checked; render(); changed(); }}), document.createTextNode(t("not"))]));
    head.appendChild(select([["all", t("all")], ["any", t("any")]], group.mode,
      function (e) { group.mode = e.target.value; changed(); }, {"data-testid": "group-mode"}));
    head.appendChild(el("button", {type: "button", "class": "secondary", text: t("add_rule"), "data-testid": "add-rule",
      onclick: function () { group.children.push({kind: "field", negate: false}); render(); }}));
    head.appendChild(el("button", {type: "button", "class": "secondary", text: t("add_group"), "data-testid": "add-group",
      onclick: function () { group.children.push({kind: "group", mode: "any", negate: false, children: []}); render(); }}));
    if (parent) {
      head.appendChild(el("button", {type: "button", "class": "sb-x", text: "×", title: t("remove"),
        onclick: function () { parent.children.splice(parent.children.indexOf(group), 1); render(); changed(); }}));
    }
    box.appendChild(head);
    group.children.forEach(function (c) {
      box.appendChild(c.kind === "group" ? renderGroup(c, group) : renderLeaf(c, group));
    });
    return box;
  }

  function render() {
    var holder = document.getElementById("sb-tree");
    holder.textContent = "";
    holder.appendChild(renderGroup(tree, null));
  }

  /* ---- figures --------------------------------------------------------------------- */
  function changed() {
    clearTimeout(timer);
    timer = setTimeout(evaluate, 350);
    snapshotState();
    greyUnfinished(tree);
  }

  // Grey means "left out of the count": follow each edit, not only the last re-render
  // (a list name typed in, or the value of the last rule, finishes a rule in place).
  function greyUnfinished(node) {
    if (!node) { return; }
    if (node.kind === "group") { node.children.forEach(greyUnfinished); return; }
    if (node.dom) { node.dom.classList.toggle("sb-incomplete", !complete(node)); }
  }

  // A snapshot materialises the saved version, so it is offered only while the rule on
  // screen is that version: with unsaved edits it would not be the audience shown.
  var savedJson = null;
  function snapshotState() {
    var button = document.getElementById("sb-snapshot");
    if (!button || !segment) { return; }
    var dirty = JSON.stringify(currentRule()) !== savedJson;
    if (dirty && !button.disabled) { say("sb-save-result", t("unsaved_snapshot")); }
    if (!dirty && button.disabled) { say("sb-save-result", ""); }
    button.disabled = dirty;
    button.title = dirty ? t("unsaved_snapshot") : "";
  }

  // the tooltip is HTML: codes and region names are loaded data, shown as text
  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c];
    });
  }

  function fmt(n) { return (n === null || n === undefined) ? "—" : Number(n).toLocaleString(document.documentElement.lang || undefined); }

  function evaluate() {
    var mine = ++seq;
    var dim = document.getElementById("sb-dim").value || null;
    root.classList.add("sb-busy");
    // a saved segment is counted in its own region, as its snapshot will be
    api("POST", "/api/segments/evaluate", {rule: currentRule(), field: dim, size: 10,
                                           segment_id: segment ? segment.id : null})
      .then(function (data) {
        if (mine !== seq) { return; }  // a newer edit's answer wins
        document.getElementById("sb-error").textContent =
          unfinished.length ? t("unfinished_left_out").replace("{n}", unfinished.length) : "";
        markStale(false);
        document.getElementById("sb-count").textContent = fmt(data.count);
        document.getElementById("sb-words").textContent = data.description || "";
        document.getElementById("sb-base").textContent = fmt(data.base);
        document.getElementById("sb-final").textContent = fmt(data.funnel.final);
        showFunnel(data.funnel);
        showProfile(data.profile);
        showSample(data.sample);
      })
      .catch(function (err) {
        if (mine !== seq) { return; }
        document.getElementById("sb-error").textContent = err.message;
        // the figures shown were for the previous rule: blank and grey them, mark the
        // rule the error names (its path, e.g. all[0]) so the user sees what to fix
        markStale(true, err.field);
      })
      .then(function () { if (mine === seq) { root.classList.remove("sb-busy"); } });
  }

  function markStale(stale, path) {
    ["sb-count", "sb-final", "sb-base"].forEach(function (id) {
      if (stale) { document.getElementById(id).textContent = "—"; }
    });
    ["sb-funnel", "sb-charts", "sb-sample"].forEach(function (id) {
      document.getElementById(id).classList.toggle("sb-stale", stale);
    });
    if (stale) { document.getElementById("sb-words").textContent = ""; }
    Array.prototype.forEach.call(document.querySelectorAll("#sb-tree .sb-bad"), function (n) {
      n.classList.remove("sb-bad"); n.removeAttribute("aria-invalid");
    });
    var p = path || "";
    while (stale && p && !(where[p] && where[p].dom)) {  // the nearest node the tree shows
      p = p.indexOf(".") > 0 ? p.slice(0, p.lastIndexOf(".")) : "";
    }
    markBad(stale && p ? where[p] : null);
  }

  function row(cells, tag) {
    return el("tr", {}, cells.map(function (c) { return el(tag || "td", {text: c}); }));
  }

  function showFunnel(f) {
    var table = document.getElementById("sb-funnel");
    table.textContent = "";
    table.appendChild(row(["", t("removed"), t("remaining")], "th"));
    table.appendChild(row([t("matched"), "", fmt(f.matched)]));
    // a step that removes nobody reads 0, not "−0"
    f.steps.forEach(function (s) {
      table.appendChild(row(["− " + s.label, (s.removed ? "−" : "") + fmt(s.removed), fmt(s.remaining)]));
    });
    table.appendChild(row([t("final"), "", fmt(f.final)]));
  }

  function showProfile(p) {
    var holder = document.getElementById("sb-charts");
    Object.keys(p.dimensions).forEach(function (name) {
      var items = p.dimensions[name];
      // a region's name beside its code (the profile maps them: county, city)
      function keyWord(it) { return it.name ? it.key + " " + it.name : valueWord(it.key); }
      var box = document.getElementById("sb-chart-" + name);
      if (!box) {
        // a chosen field's chart is headed with its label in the reader's language
        var chosen = name.indexOf("field:") === 0 ? fieldsByName[name.slice(6)] : null;
        var heading = chosen ? chosen.label : (name.indexOf("field:") === 0 ? name.slice(6) : t(name));
        box = el("div", {}, [el("h3", {text: heading}),
                             el("div", {"class": "chart", id: "sb-chart-" + name, "data-testid": "chart-" + name})]);
        holder.appendChild(box);
        box = document.getElementById("sb-chart-" + name);
      }
      if (!window.echarts) { return; }
      // Horizontal bars, one row per category, the chart as tall as its rows: 40 counties
      // under a vertical chart overlapped into an illegible band, and a fixed left margin
      // cut long labels ("кт-Петербург"). containLabel gives the labels the room they
      // need; a very long one is shortened (the tooltip says it whole).
      box.style.height = Math.max(240, 70 + items.length * 26) + "px";
      var chart = charts[name] || (charts[name] = echarts.init(box));
      chart.resize();
      chart.setOption({
        animation: false, legend: {top: 0},
        grid: {left: 8, right: 16, top: 30, bottom: 8, containLabel: true},
        tooltip: {trigger: "axis", formatter: function (ps) {
          var it = items[ps[0].dataIndex];
          return esc(keyWord(it)) + "<br>" + t("audience_share") + ": " + (100 * it.share).toFixed(1) +
                 "<br>" + t("base_share") + ": " + (100 * it.base_share).toFixed(1) +
                 "<br>" + t("index") + ": " + (it.index === null ? "—" : it.index);
        }},
        // the first category at the top, as the list reads
        yAxis: {type: "category", inverse: true, data: items.map(keyWord),
                axisLabel: {interval: 0, width: 150, overflow: "truncate"}},
        xAxis: {type: "value", axisLabel: {formatter: "{value}%"}},
        series: [{name: t("audience_share"), type: "bar", data: items.map(function (i) { return +(100 * i.share).toFixed(1); }), itemStyle: {color: "#2f6db5"}},
                 {name: t("base_share"), type: "bar", data: items.map(function (i) { return +(100 * i.base_share).toFixed(1); }), itemStyle: {color: "#b8c4d3"}}]
      }, true);
      box.dataset.rendered = "1";
    });
    Object.keys(charts).forEach(function (name) {
      if (!(name in p.dimensions)) {
        charts[name].dispose(); delete charts[name];
        var gone = document.getElementById("sb-chart-" + name);
        if (gone) { gone.parentNode.remove(); }
      }
    });
  }

  function showSample(rows) {
    var table = document.getElementById("sb-sample");
    table.textContent = "";
    if (!rows.length) { table.appendChild(row([t("none")])); return; }
    var cols = Object.keys(rows[0]);
    // column headers as the catalogue labels them (in the reader's language)
    var labels = {};
    catalogue.fields.forEach(function (f) { labels[f.name] = f.label; });
    table.appendChild(row(cols.map(function (c) { return labels[c] || c; }), "th"));
    // values of a closed set (value tier) in the reader's words, as the charts show them
    function cell(c, v) {
      if (v === null) { return "—"; }
      var f = fieldsByName[c];
      return f && f.values ? valueLabel(f, String(v)) : String(v);
    }
    rows.forEach(function (r) { table.appendChild(row(cols.map(function (c) { return cell(c, r[c]); }))); });
  }

  /* ---- save, snapshot, templates ------------------------------------------------------ */
  function say(id, text, bad) {
    var node = document.getElementById(id);
    node.textContent = text;
    node.className = bad ? "error" : "";
  }

  function wire() {
    var save = document.getElementById("sb-save");
    if (save) {
      save.addEventListener("click", function () {
        var name = document.getElementById("sb-name").value.trim();
        var rule = currentRule();
        if (refuseUnfinished("sb-save-result")) { return; }
        var req = segment ? api("PATCH", "/api/segments/" + segment.id, {name: name, rule: rule})
                          : api("POST", "/api/segments", {name: name, rule: rule});
        var sent = JSON.stringify(rule);
        req.then(function (seg) {
          segment = seg;
          savedJson = sent;
          var button = document.getElementById("sb-snapshot");
          button.disabled = false;
          button.title = "";
          say("sb-save-result", t("saved") + " " + seg.current_version + " (#" + seg.id + ")");
          history.replaceState(null, "", "/segments/builder?segment=" + seg.id);
        }).catch(function (e) { say("sb-save-result", e.message, true); });
      });
      document.getElementById("sb-snapshot").addEventListener("click", function () {
        if (!segment) { return; }
        api("POST", "/api/segments/" + segment.id + "/snapshots", {})
          .then(function (s) { say("sb-save-result", t("snapshot_done") + " " + fmt(s.count) + " (#" + s.id + ", v" + s.version + ")"); })
          .catch(function (e) { say("sb-save-result", e.message, true); });
      });
      document.getElementById("sb-tpl-save").addEventListener("click", function () {
        var params = {};
        var rule = currentRule(params);
        if (refuseUnfinished("sb-tpl-result")) { return; }
        api("POST", "/api/segments/templates", {name: document.getElementById("sb-tpl-name").value.trim(),
          description: document.getElementById("sb-tpl-desc").value.trim(), params: params, rule: rule})
          .then(function () { say("sb-tpl-result", t("template_saved")); loadTemplates(); })
          .catch(function (e) { say("sb-tpl-result", e.message, true); });
      });
    }
    document.getElementById("sb-dim").addEventListener("change", changed);
    document.getElementById("sb-tpl-pick").addEventListener("change", showTemplateParams);
  }

  function loadTemplates() {
    return api("GET", "/api/segments/templates").then(function (list) {
      templates = list;
      var pick = document.getElementById("sb-tpl-pick");
      pick.textContent = "";
      pick.appendChild(option("", t("choose"), true));
      list.forEach(function (tp) { pick.appendChild(option(tp.id, tp.name + (tp.description ? " — " + tp.description : ""), false)); });
    });
  }

  function showTemplateParams() {
    var holder = document.getElementById("sb-tpl-params");
    holder.textContent = "";
    var id = document.getElementById("sb-tpl-pick").value;
    var tp = templates.filter(function (x) { return String(x.id) === id; })[0];
    if (!tp) { return; }
    var inputs = {};
    Object.keys(tp.params).forEach(function (name) {
      var spec = tp.params[name];
      var input = el("input", {type: "text", value: spec.default === undefined ? "" : spec.default, size: 10,
                               placeholder: spec.values ? spec.values.join(", ") : spec.type});
      inputs[name] = input;
      holder.appendChild(el("label", {}, [document.createTextNode((spec.label || name) + " {" + name + "} "), input]));
    });
    holder.appendChild(el("button", {type: "button", text: t("apply"), onclick: function () {
      var values = {};
      Object.keys(inputs).forEach(function (n) { if (inputs[n].value !== "") { values[n] = inputs[n].value; } });
      api("POST", "/api/segments/templates/" + tp.id + "/fill", {values: values})
        .then(function (out) { tree = asGroup(fromRule(out.rule)); render(); changed(); })
        .catch(function (e) { document.getElementById("sb-error").textContent = e.message; });
    }}));
  }

  function asGroup(node) {
    return node.kind === "group" ? node : {kind: "group", mode: "all", negate: false, children: [node]};
  }

  // the lists this user may name, offered as the in-list box's suggestions (a user
  // without list rights still types a name or id, which the count then checks)
  var visibleLists = api("GET", "/api/lists").catch(function () { return []; });
  Promise.all([api("GET", "/api/segments/catalogue"), api("GET", "/api/segments"), visibleLists])
    .then(function (res) {
      catalogue = res[0];
      var names = document.createElement("datalist");
      names.id = "sb-list-names";
      res[2].forEach(function (l) { names.appendChild(el("option", {value: l.name, label: l.type})); });
      root.appendChild(names);
      segments = res[1].filter(function (s) { return !segment || s.id !== segment.id; });
      catalogue.fields.forEach(function (f) {
        fieldsByName[f.name] = f;
        if (f.regions) {  // suggestions of a region field's value box: code, then name
          var known = el("datalist", {id: "sb-regions-" + f.name, "data-testid": "regions-" + f.name});
          f.regions.forEach(function (r) { known.appendChild(el("option", {value: r.code, label: r.name})); });
          root.appendChild(known);
        }
      });
      catalogue.metrics.forEach(function (m) { metricsByName[m.name] = m; });
      var dim = document.getElementById("sb-dim");
      dim.appendChild(option("", t("choose"), true));
      catalogue.fields.forEach(function (f) {
        if (f.name !== "msisdn" && f.name !== "email") { dim.appendChild(option(f.name, f.label, false)); }
      });
      tree = asGroup(fromRule(segment ? segment.rule : {all: []}));
      render();
      savedJson = JSON.stringify(currentRule());  // the saved version, as the tree writes it
      wire();
      loadTemplates();
      evaluate();
    })
    .catch(function (e) { document.getElementById("sb-error").textContent = e.message; });
})();
