// The visual rule builder of a segment. The rule tree lives as JSON in the form's
// "Rules as JSON" field, which is what the server reads; without this script that
// field is edited by hand. Each change rewrites the field and asks the preview
// beside the builder to count again.
(function () {
  "use strict";

  var root = document.getElementById("rule-builder");
  if (!root) return;
  var options = JSON.parse(document.getElementById(root.dataset.options).textContent);
  var source = document.getElementById(root.dataset.source);
  var preview = document.getElementById(root.dataset.preview);
  var readonly = root.hasAttribute("data-readonly");
  var CUSTOM = "__custom";
  var tree;

  try {
    tree = source.value.trim() ? JSON.parse(source.value) : {};
  } catch (error) {
    return; // hand-written JSON that does not parse: leave the text field in charge
  }
  // Only a tree of the known shape is drawn; anything else stays in the text field,
  // where the server's errors (with their paths) say what to change.
  function drawable(node, depth) {
    if (!node || typeof node !== "object" || Array.isArray(node)) return false;
    if (node.type) return typeof node.type === "string";
    return depth <= options.maxDepth && Array.isArray(node.conditions) &&
      node.conditions.every(function (child) { return drawable(child, depth + 1); });
  }
  if (tree && typeof tree === "object" && !Array.isArray(tree) && Object.keys(tree).length === 0) {
    tree = { match: "all", conditions: [] };
  }
  if (!drawable(tree, 1) || tree.type) return;

  // -- small DOM helpers ----------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "class") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function select(label, pairs, value, onChange, multiple) {
    var box = el("select", { "aria-label": label, class: "rule-control" });
    if (multiple) {
      box.multiple = true;
      box.size = Math.min(Math.max(pairs.length, 2), 4);
    }
    var chosen = [].concat(value).map(String);
    pairs.forEach(function (pair) {
      var option = el("option", { value: String(pair[0]), text: pair[1] });
      option.selected = chosen.indexOf(String(pair[0])) !== -1;
      box.appendChild(option);
    });
    box.addEventListener("change", function () {
      var values = Array.from(box.selectedOptions).map(function (o) { return o.value; });
      onChange(multiple ? values : box.value);
    });
    return box;
  }

  function input(label, type, value, onInput, attrs) {
    var box = el("input", Object.assign({ type: type, "aria-label": label, class: "rule-control" }, attrs || {}));
    box.value = value === undefined || value === null ? "" : String(value);
    box.addEventListener("input", function () { onInput(box.value); });
    return box;
  }

  function button(text, label, onClick, extra) {
    var b = el("button", { type: "button", class: "button button-quiet button-small " + (extra || ""), "aria-label": label, text: text });
    b.addEventListener("click", onClick);
    return b;
  }

  // -- the rules --------------------------------------------------------------------

  function fieldKind(name) {
    if (name && name.indexOf(options.customPrefix) === 0) return "custom";
    var found = options.fields.filter(function (f) { return f.name === name; })[0];
    return found ? found.kind : "text";
  }

  function number(raw) {
    var n = Number(raw);
    return raw !== "" && isFinite(n) ? n : raw;
  }

  function defaultValue(kind, operator) {
    if (operator === "is_set" || operator === "is_not_set") return undefined;
    if (operator === "within_last" || operator === "not_within_last") return 30;
    if (operator === "between") return ["", ""];
    return "";
  }

  function fresh(type) {
    var first = function (list) { return list.length ? list[0][0] : null; };
    switch (type) {
      case "tag": return { type: "tag", operator: "has_any", value: options.tags.length ? [first(options.tags)] : [] };
      case "status": return { type: "status", operator: "is", value: "subscribed" };
      case "topic": return { type: "topic", operator: "subscribed", value: first(options.topics) };
      case "activity": return { type: "activity", activity: "opened", operator: "within", days: 30 };
      default: return { type: "field", field: "email", operator: "contains", value: "" };
    }
  }

  function changed() {
    source.value = JSON.stringify(tree, null, 2);
    if (preview) preview.dispatchEvent(new CustomEvent("rules-changed"));
  }

  // -- rendering ----------------------------------------------------------------------

  function valueControls(node, rerender) {
    var set = function (v) { node.value = v; changed(); };
    var kind = fieldKind(node.field);
    var op = node.operator;
    if (op === "is_set" || op === "is_not_set") return [];
    if (op === "within_last" || op === "not_within_last") {
      return [input("Days", "number", node.value, function (v) { set(number(v)); }, { min: 1, class: "rule-control rule-days" }),
        el("span", { class: "rule-word", text: "days" })];
    }
    var dateLike = kind === "date" || ["before", "after", "on"].indexOf(op) !== -1;
    if (op === "between") {
      var pair = Array.isArray(node.value) ? node.value.slice() : ["", ""];
      var type = kind === "date" ? "date" : "text";
      var side = function (i) {
        return input(i ? "To" : "From", type, pair[i], function (v) {
          pair[i] = kind === "custom" ? number(v) : v;
          set(pair.slice());
        });
      };
      return [side(0), el("span", { class: "rule-word", text: "and" }), side(1)];
    }
    if (["gt", "gte", "lt", "lte"].indexOf(op) !== -1) {
      return [input("Number", "number", node.value, function (v) { set(number(v)); })];
    }
    if (dateLike) return [input("Date", "date", node.value, set)];
    return [input("Value", "text", node.value, set, { class: "rule-control rule-text" })];
  }

  function conditionControls(node, rerender) {
    var parts = [];
    if (node.type === "field") {
      var isCustom = fieldKind(node.field) === "custom";
      var fields = options.fields.map(function (f) { return [f.name, f.label]; }).concat([[CUSTOM, "Custom field…"]]);
      parts.push(select("Field", fields, isCustom ? CUSTOM : node.field, function (v) {
        var name = v === CUSTOM ? options.customPrefix : v;
        var ops = options.fieldOperators[fieldKind(name)].map(function (p) { return p[0]; });
        node.field = name;
        if (ops.indexOf(node.operator) === -1) node.operator = ops[0];
        node.value = defaultValue(fieldKind(name), node.operator);
        rerender("Field");
      }));
      if (isCustom) {
        parts.push(input("Custom field key", "text", node.field.slice(options.customPrefix.length), function (v) {
          node.field = options.customPrefix + v.trim();
          changed();
        }, { placeholder: "plan", class: "rule-control rule-key", spellcheck: "false" }));
      }
      parts.push(select("Operator", options.fieldOperators[fieldKind(node.field)], node.operator, function (v) {
        var before = node.operator;
        node.operator = v;
        var shape = function (op) { return ["is_set", "is_not_set"].indexOf(op) !== -1 ? "none" : ["within_last", "not_within_last"].indexOf(op) !== -1 ? "days" : op === "between" ? "pair" : ["gt", "gte", "lt", "lte"].indexOf(op) !== -1 ? "number" : ["before", "after", "on"].indexOf(op) !== -1 ? "date" : "text"; };
        if (shape(before) !== shape(v)) node.value = defaultValue(fieldKind(node.field), v);
        if (node.value === undefined) delete node.value;
        rerender("Operator");
      }));
      parts = parts.concat(valueControls(node, rerender));
    } else if (node.type === "tag") {
      parts.push(select("Operator", options.tagOperators, node.operator, function (v) { node.operator = v; changed(); }));
      if (options.tags.length) {
        var tags = select("Tags", options.tags, node.value || [], function (v) { node.value = v.map(Number); changed(); }, true);
        tags.title = "Ctrl-click (⌘-click on a Mac) to choose several";
        parts.push(tags);
      } else {
        parts.push(el("span", { class: "rule-word", text: "(this project has no tags yet)" }));
      }
    } else if (node.type === "status") {
      parts.push(select("Operator", options.statusOperators, node.operator, function (v) { node.operator = v; changed(); }));
      var several = Array.isArray(node.value) && node.value.length > 1;
      parts.push(select("Status", options.statuses, node.value, function (v) { node.value = v; changed(); }, several));
    } else if (node.type === "topic") {
      parts.push(select("Operator", options.topicOperators, node.operator, function (v) { node.operator = v; changed(); }));
      if (options.topics.length) {
        parts.push(select("Topic", options.topics, node.value, function (v) { node.value = Number(v); changed(); }));
      } else {
        parts.push(el("span", { class: "rule-word", text: "(this project has no topics yet)" }));
      }
    } else if (node.type === "activity") {
      parts.push(select("Activity", options.activities, node.activity, function (v) { node.activity = v; changed(); }));
      parts.push(select("When", options.activityOperators, node.operator, function (v) {
        node.operator = v;
        if (v === "never") delete node.days;
        else if (!node.days) node.days = 30;
        rerender("When");
      }));
      if (node.operator !== "never") {
        parts.push(input("Days", "number", node.days, function (v) { node.days = number(v); changed(); }, { min: 1, class: "rule-control rule-days" }));
        parts.push(el("span", { class: "rule-word", text: node.operator === "before" ? "days ago" : "days" }));
      }
      if (node.campaignId) parts.push(el("span", { class: "rule-word", text: "in campaign #" + node.campaignId }));
    }
    return parts;
  }

  function conditionRow(node, path, list, index) {
    var row = el("li", { class: "rule-row", "data-path": path });
    function rerender(focusLabel) {
      var again = conditionRow(node, path, list, index);
      row.replaceWith(again);
      changed();
      var target = again.querySelector('[aria-label="' + focusLabel + '"]');
      if (target) target.focus();
    }
    var type = select("Condition type", options.types, node.type, function (v) {
      list[index] = fresh(v);
      node = list[index];
      rerender("Condition type");
    });
    var controls = el("div", { class: "rule-controls" }, [type].concat(conditionControls(node, rerender)));
    row.appendChild(controls);
    if (!readonly) {
      row.appendChild(button("×", "Remove this condition", function () {
        list.splice(index, 1);
        render();
        changed();
      }, "rule-remove"));
    }
    return row;
  }

  function groupBox(group, path, depth, parentList, index) {
    var box = el("div", { class: "rule-group rule-depth-" + depth, "data-path": path });
    var head = el("div", { class: "rule-group-head" }, [
      el("span", { class: "rule-word", text: depth === 1 ? "Contacts matching" : "Matching" }),
      select("Match", [["all", "all"], ["any", "any"]], group.match, function (v) { group.match = v; changed(); }),
      el("span", { class: "rule-word", text: "of these conditions" }),
    ]);
    if (parentList && !readonly) {
      head.appendChild(button("Remove group", "Remove this group", function () {
        parentList.splice(index, 1);
        render();
        changed();
      }, "rule-remove-group"));
    }
    box.appendChild(head);
    var items = el("ol", { class: "rule-items" });
    group.conditions.forEach(function (child, i) {
      var childPath = path + ".conditions[" + i + "]";
      if (child && child.conditions) {
        items.appendChild(el("li", { class: "rule-nested" }, [groupBox(child, childPath, depth + 1, group.conditions, i)]));
      } else if (child && child.type) {
        items.appendChild(conditionRow(child, childPath, group.conditions, i));
      }
    });
    if (!group.conditions.length) {
      items.appendChild(el("li", { class: "rule-empty muted", text: depth === 1 ? "No conditions: everyone in the project." : "No conditions yet." }));
    }
    box.appendChild(items);
    if (!readonly) {
      var actions = el("div", { class: "rule-group-actions" }, [
        button("+ Condition", "Add a condition to this group", function () {
          group.conditions.push(fresh("field"));
          render();
          changed();
        }),
      ]);
      if (depth < options.maxDepth) {
        actions.appendChild(button("+ Group", "Add a group inside this group", function () {
          group.conditions.push({ match: "any", conditions: [fresh("field")] });
          render();
          changed();
        }));
      }
      box.appendChild(actions);
    }
    return box;
  }

  function render() {
    root.replaceChildren(groupBox(tree, "filters", 1, null, 0));
    if (readonly) root.querySelectorAll("select, input, button").forEach(function (c) { c.disabled = true; });
    markErrors();
  }

  // -- errors from the server, each at its path ------------------------------------------

  function markErrors() {
    root.querySelectorAll(".rule-invalid").forEach(function (n) { n.classList.remove("rule-invalid"); });
    root.querySelectorAll(".rule-error").forEach(function (n) { n.remove(); });
    document.querySelectorAll("#segment-preview [data-path]").forEach(function (item) {
      var path = item.getAttribute("data-path");
      var target = null;
      root.querySelectorAll("[data-path]").forEach(function (candidate) {
        var p = candidate.getAttribute("data-path");
        if ((path === p || path.indexOf(p + ".") === 0 || path.indexOf(p + "[") === 0) &&
            (!target || p.length > target.getAttribute("data-path").length)) target = candidate;
      });
      if (!target) return;
      target.classList.add("rule-invalid");
      var message = item.cloneNode(true);
      message.removeAttribute("data-path");
      var note = el("p", { class: "rule-error" }, Array.from(message.childNodes));
      if (target.classList.contains("rule-row")) target.appendChild(note);
      else target.querySelector(".rule-group-head").after(note);
    });
  }

  if (preview) preview.addEventListener("htmx:afterSwap", markErrors);
  document.querySelectorAll(".rules-json").forEach(function (n) { n.hidden = true; });
  root.hidden = false;
  render();
})();
