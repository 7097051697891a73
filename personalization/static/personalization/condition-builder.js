/*
 * Tailor's condition builder: edit a targeting condition as rows of attribute / operator /
 * value in nested AND / OR / NOT groups, or as raw JSON, and test it against a visitor.
 *
 * The form field is the widget's textarea; the builder and the JSON tab both edit it. The
 * builder writes the textarea on every change it makes and reads it again when the editor
 * comes back from the JSON tab; it never rewrites JSON it has not been asked to change. A
 * condition it cannot show (`$elemMatch`, an object literal, ...) stays in the textarea,
 * editable in the JSON tab, with a notice saying why.
 *
 * How groups become JSON: the top group and groups inside OR / NOT write their parts in one
 * object ({"device": "mobile", "$or": [...]}), falling back to {"$and": [...]} when two parts
 * use the same key; an AND group inside an AND group writes {"$and": [...]}, so that it comes
 * back as a group; an OR group writes {"$or": [...]}; a NOT group {"$not": {...}} (it negates
 * all its children together). `$nor` is read as a NOT group holding an OR group.
 *
 * No framework and nothing loaded from elsewhere: plain DOM, `fetch` to the admin views.
 */
(function () {
  "use strict";

  // Operator ids, their JSON operator and the kind of value they take.
  var OPERATORS = {
    eq: { label: "equals", value: "scalar" },
    ne: { label: "does not equal", op: "$ne", value: "scalar" },
    in: { label: "is one of", op: "$in", value: "list" },
    nin: { label: "is none of", op: "$nin", value: "list" },
    ini: { label: "is one of, ignoring case", op: "$ini", value: "list" },
    nini: { label: "is none of, ignoring case", op: "$nini", value: "list" },
    all: { label: "contains all of", op: "$all", value: "list" },
    gt: { label: "> greater than", op: "$gt", value: "scalar" },
    gte: { label: ">= at least", op: "$gte", value: "scalar" },
    lt: { label: "< less than", op: "$lt", value: "scalar" },
    lte: { label: "<= at most", op: "$lte", value: "scalar" },
    exists: { label: "exists", op: "$exists", fixed: true, value: "none" },
    missing: { label: "does not exist", op: "$exists", fixed: false, value: "none" },
    regex: { label: "matches regex", op: "$regex", value: "text" },
    regexi: { label: "matches regex, ignoring case", op: "$regexi", value: "text" },
    veq: { label: "version =", op: "$veq", value: "text" },
    vne: { label: "version ≠", op: "$vne", value: "text" },
    vgt: { label: "version >", op: "$vgt", value: "text" },
    vgte: { label: "version >=", op: "$vgte", value: "text" },
    vlt: { label: "version <", op: "$vlt", value: "text" },
    vlte: { label: "version <=", op: "$vlte", value: "text" },
    segment: { label: "is in segment", value: "text" },
  };
  var BY_JSON_OPERATOR = {};
  Object.keys(OPERATORS).forEach(function (id) {
    var op = OPERATORS[id].op;
    if (op && op !== "$exists") BY_JSON_OPERATOR[op] = id;
  });
  BY_JSON_OPERATOR.$eq = "eq";

  var VERSION = ["veq", "vne", "vgt", "vgte", "vlt", "vlte"];
  var ORDER = ["gt", "gte", "lt", "lte"];
  var PRESENCE = ["exists", "missing"];
  var OPERATORS_BY_TYPE = {
    string: ["eq", "ne", "in", "nin", "ini", "nini", "regex", "regexi"]
      .concat(ORDER, VERSION, PRESENCE),
    number: ["eq", "ne"].concat(ORDER, ["in", "nin"], PRESENCE),
    boolean: ["eq", "ne"].concat(PRESENCE),
    array: ["in", "nin", "all"].concat(PRESENCE),
    object: PRESENCE,
    any: ["eq", "ne", "in", "nin", "ini", "nini", "all"]
      .concat(ORDER, ["regex", "regexi"], VERSION, PRESENCE),
  };
  var ARRAY_LABELS = { in: "contains any of", nin: "contains none of" };
  var GROUP_LABELS = {
    and: "All of these (AND)",
    or: "Any of these (OR)",
    not: "Not all of these (NOT)",
  };
  var NUMBER_RE = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
  var INDEX_RE = /^(0|[1-9]\d{0,9})$/;

  var uniqueId = 0;
  function nextId(prefix) {
    uniqueId += 1;
    return "tc-" + prefix + "-" + uniqueId;
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function isPlainObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }
  function isScalar(value) {
    return value === null || ["string", "number", "boolean"].indexOf(typeof value) >= 0;
  }
  function isOperatorObject(value) {
    return isPlainObject(value) && Object.keys(value).every(function (key) {
      return key.charAt(0) === "$";
    });
  }
  function sameJson(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
  }

  /* ---- the attribute catalogue --------------------------------------------------------- */

  var catalogues = {};
  function loadCatalogue(url) {
    if (!catalogues[url]) {
      catalogues[url] = fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) { return new Catalogue(data.attributes || []); })
        .catch(function () { return new Catalogue(null); });
    }
    return catalogues[url];
  }

  function Catalogue(rows) {
    this.available = Array.isArray(rows) && rows.length > 0;
    this.rows = rows || [];
    this.byName = {};
    var self = this;
    this.rows.forEach(function (row) {
      var name = row.name;
      if (/>$/.test(name)) name = name.slice(0, name.lastIndexOf(".")) + ".*";
      self.byName[name] = row;
    });
  }

  // The catalogue entry a dotted path reads and the type of the value there (as the server's
  // catalogue answers): null for an unknown path; type null where no value can ever be.
  Catalogue.prototype.lookup = function (path) {
    if (!path) return null;
    var parts = path.split(".");
    for (var end = parts.length; end > 0; end--) {
      var row = this.byName[parts.slice(0, end).join(".")];
      if (!row && end > 1) row = this.byName[parts.slice(0, end - 1).join(".") + ".*"];
      if (row) return { row: row, type: descend(row, parts.slice(end)) };
    }
    return null;
  };

  function descend(row, rest) {
    var kind = row.type;
    var items = row.items;
    for (var i = 0; i < rest.length; i++) {
      if (kind === "any" || kind === "object") return "any";
      if (kind !== "array") return null;
      if (rest[i] === "length") return i === rest.length - 1 ? "number" : null;
      if (!INDEX_RE.test(rest[i])) return null;
      kind = items || "any";
      items = null;
    }
    return kind;
  }

  Catalogue.prototype.typeOf = function (path) {
    var found = this.lookup(path);
    return found && found.type && OPERATORS_BY_TYPE[found.type] ? found.type : "any";
  };

  Catalogue.prototype.operatorsFor = function (path) {
    var ids = OPERATORS_BY_TYPE[this.typeOf(path)].slice();
    if (path === "segments") ids.unshift("segment");
    return ids;
  };

  // The type of one value an operator compares: a list's elements for an array attribute.
  Catalogue.prototype.valueType = function (path) {
    var found = this.lookup(path);
    if (!found || !found.type) return "any";
    if (found.type === "array") return found.row.type === "array" && found.row.items ? found.row.items : "any";
    return OPERATORS_BY_TYPE[found.type] ? found.type : "any";
  };

  /* ---- values: text in the value box <-> JSON -------------------------------------------- */

  function parseScalar(text, type) {
    var t = text.trim();
    if (t.length >= 2 && t.charAt(0) === '"' && t.charAt(t.length - 1) === '"') {
      try {
        var quoted = JSON.parse(t);
        if (typeof quoted === "string") return quoted;
      } catch (error) { /* not a JSON string: read it as typed */ }
    }
    if (type === "string") return t;
    if (t === "null") return null;
    if ((type === "boolean" || type === "any") && (t === "true" || t === "false")) return t === "true";
    if ((type === "number" || type === "any") && NUMBER_RE.test(t)) return Number(t);
    return t;
  }

  function formatScalar(value, type) {
    if (!isScalar(value)) return null;
    var text = value === null ? "null" : String(value);
    if (sameJson(parseScalar(text, type), value)) return text;
    if (typeof value === "string") return JSON.stringify(value);
    return null;
  }

  function parseList(text, type) {
    var t = text.trim();
    if (t.charAt(0) === "[") {
      try {
        var list = JSON.parse(t);
        if (Array.isArray(list)) return list;
      } catch (error) { /* not JSON: split on commas below */ }
    }
    return t.split(",").filter(function (part) { return part.trim() !== ""; })
      .map(function (part) { return parseScalar(part, type); });
  }

  function formatList(list, type) {
    if (!Array.isArray(list)) return null;
    var texts = list.map(function (item) { return formatScalar(item, type); });
    if (texts.every(function (t) { return t !== null && t.indexOf(",") < 0 && t.trim() !== ""; })) {
      var joined = texts.join(", ");
      if (sameJson(parseList(joined, type), list)) return joined;
    }
    var json = JSON.stringify(list);
    return sameJson(parseList(json, type), list) ? json : null;
  }

  function parseValue(row, catalogue) {
    var operator = OPERATORS[row.op];
    var type = catalogue.valueType(row.attribute);
    if (operator.value === "none") return operator.fixed;
    if (operator.value === "text") return row.value;
    if (operator.value === "list") return parseList(row.value, type);
    return parseScalar(row.value, type);
  }

  function formatValue(id, argument, type) {
    var kind = OPERATORS[id].value;
    if (kind === "text") return typeof argument === "string" ? argument : null;
    if (kind === "list") return formatList(argument, type);
    return formatScalar(argument, type);
  }

  // What is wrong with a row's value for its attribute, in a few words (or "").
  function valueProblem(row, catalogue) {
    var operator = OPERATORS[row.op];
    if (operator.value === "none") return "";
    if (row.value.trim() === "") return "Enter a value.";
    var type = catalogue.valueType(row.attribute);
    var value = parseValue(row, catalogue);
    var values = Array.isArray(value) && operator.value === "list" ? value : [value];
    var wrong = values.some(function (v) {
      if (v === null) return false;
      if (type === "number") return typeof v !== "number";
      if (type === "boolean") return typeof v !== "boolean";
      return false;
    });
    if (wrong) return type === "number" ? "Expects a number." : "Expects true or false.";
    if (ORDER.indexOf(row.op) >= 0 && typeof value !== "number" && typeof value !== "string") {
      return "Expects a number or text.";
    }
    return "";
  }

  /* ---- the model: groups and rows <-> JSON ---------------------------------------------- */

  function Unrepresentable(message) { this.message = message; }

  function newRow(attribute, op, value, fromJson) {
    return {
      kind: "row", id: nextId("node"), attribute: attribute || "", op: op || "eq",
      value: value || "", fromJson: Boolean(fromJson),
    };
  }
  function newGroup(type, children) {
    return { kind: "group", id: nextId("node"), type: type, children: children || [] };
  }

  function parseCondition(condition, catalogue) {
    if (!isPlainObject(condition)) throw new Unrepresentable("A condition must be a JSON object.");
    return unwrap(newGroup("and", parseKeys(condition, "", catalogue)));
  }

  // A group holding nothing but one AND group holds that group's children instead.
  function unwrap(group) {
    var only = group.children.length === 1 ? group.children[0] : null;
    if (group.type !== "or" && only && only.kind === "group" && only.type === "and") {
      group.children = only.children;
    }
    return group;
  }

  function nodeOf(item, path, catalogue) {
    if (!isPlainObject(item)) throw new Unrepresentable(path + " is not a condition.");
    var nodes = parseKeys(item, path, catalogue);
    return nodes.length === 1 ? nodes[0] : newGroup("and", nodes);
  }

  function conditionList(value, key, path, catalogue) {
    if (!Array.isArray(value)) throw new Unrepresentable(path + ": " + key + " needs a list.");
    return value.map(function (item, i) { return nodeOf(item, path + "[" + i + "]", catalogue); });
  }

  function parseKeys(condition, prefix, catalogue) {
    var nodes = [];
    Object.keys(condition).forEach(function (key) {
      var value = condition[key];
      var path = prefix ? prefix + "." + key : key;
      if (key === "$and") {
        if (!Array.isArray(value)) throw new Unrepresentable(path + ": $and needs a list.");
        var children = [];
        value.forEach(function (item, i) {
          if (!isPlainObject(item)) throw new Unrepresentable(path + "[" + i + "] is not a condition.");
          children = children.concat(parseKeys(item, path + "[" + i + "]", catalogue));
        });
        nodes.push(newGroup("and", children));
      } else if (key === "$or") {
        nodes.push(newGroup("or", conditionList(value, key, path, catalogue)));
      } else if (key === "$nor") {
        nodes.push(newGroup("not", [newGroup("or", conditionList(value, key, path, catalogue))]));
      } else if (key === "$not") {
        if (!isPlainObject(value)) throw new Unrepresentable(path + ": $not needs a condition.");
        nodes.push(unwrap(newGroup("not", parseKeys(value, path, catalogue))));
      } else if (key === "$inSegment") {
        if (typeof value !== "string") throw new Unrepresentable(path + ": $inSegment needs a segment key.");
        nodes.push(newRow("segments", "segment", value, true));
      } else if (key.charAt(0) === "$") {
        throw new Unrepresentable("The builder cannot show " + key + " (at " + (prefix || "the top") + ").");
      } else {
        nodes = nodes.concat(parseField(key, value, path, catalogue));
      }
    });
    return nodes;
  }

  function parseField(attribute, value, path, catalogue) {
    var type = catalogue.valueType(attribute);
    if (isScalar(value)) {
      var text = formatScalar(value, type);
      if (text === null) throw cannotShowValue(attribute, value, path, catalogue);
      return [newRow(attribute, "eq", text, true)];
    }
    if (!isOperatorObject(value) || Object.keys(value).length === 0) {
      throw new Unrepresentable(
        path + " compares with " + (Array.isArray(value) ? "a list" : "an object") +
        ", which the builder cannot show.");
    }
    return Object.keys(value).map(function (name) {
      var argument = value[name];
      if (name === "$exists") {
        if (typeof argument !== "boolean") throw new Unrepresentable(path + ": $exists needs true or false.");
        return newRow(attribute, argument ? "exists" : "missing", "", true);
      }
      var id = BY_JSON_OPERATOR[name];
      if (!id) throw new Unrepresentable(path + " uses " + name + ", which the builder cannot show.");
      var text = formatValue(id, argument, type);
      if (text === null) throw cannotShowValue(attribute, argument, path + "." + name, catalogue);
      return newRow(attribute, id, text, true);
    });
  }

  function cannotShowValue(attribute, value, path, catalogue) {
    return new Unrepresentable(
      path + ": the builder cannot show " + JSON.stringify(value) + " for " + attribute +
      " (" + catalogue.typeOf(attribute) + ").");
  }

  function rowCondition(row, catalogue) {
    var attribute = row.attribute.trim();
    if (!attribute) return null;
    var result = {};
    if (row.op === "segment") return { $inSegment: row.value.trim() };
    var value = parseValue(row, catalogue);
    var operator = OPERATORS[row.op];
    if (row.op === "eq") result[attribute] = value;
    else {
      result[attribute] = {};
      result[attribute][operator.op] = value;
    }
    return result;
  }

  // The parts of a group, each a condition object; empty rows and groups write nothing.
  function groupParts(group, catalogue) {
    return group.children.map(function (child) {
      if (child.kind === "row") return rowCondition(child, catalogue);
      if (child.type === "and") {
        var parts = groupParts(child, catalogue);
        return parts.length ? { $and: parts } : null;
      }
      return groupCondition(child, catalogue);
    }).filter(function (part) { return part !== null; });
  }

  // A group written as one condition object (an AND group merges its parts).
  function groupCondition(group, catalogue) {
    if (group.type === "or") {
      var branches = orParts(group, catalogue);
      return branches.length ? { $or: branches } : null;
    }
    var parts = groupParts(group, catalogue);
    if (!parts.length) return group.type === "and" ? {} : null;
    var merged = merge(parts);
    return group.type === "not" ? { $not: merged } : merged;
  }

  // Children of an OR group: an AND group inside an OR is written as one merged object.
  function orParts(group, catalogue) {
    return group.children.map(function (child) {
      if (child.kind === "row") return rowCondition(child, catalogue);
      var written = groupCondition(child, catalogue);
      return written && Object.keys(written).length ? written : null;
    }).filter(function (part) { return part !== null; });
  }

  function merge(parts) {
    if (parts.length === 1) return parts[0];
    var merged = {};
    for (var i = 0; i < parts.length; i++) {
      var keys = Object.keys(parts[i]);
      for (var k = 0; k < keys.length; k++) {
        var key = keys[k];
        var value = parts[i][key];
        if (!(key in merged)) {
          merged[key] = value;
        } else if (key.charAt(0) !== "$" && isOperatorObject(merged[key]) && isOperatorObject(value) &&
                   Object.keys(value).every(function (op) { return !(op in merged[key]); })) {
          merged[key] = Object.assign({}, merged[key], value);
        } else {
          return { $and: parts };
        }
      }
    }
    return merged;
  }

  /* ---- lists of values: segments, tags, kinds, countries ---------------------------------- */

  function attributeLabel(row) {
    var example = row.example === null || row.example === undefined ? "" : JSON.stringify(row.example);
    return row.type + " · " + row.description + (example ? " e.g. " + example : "");
  }

  var valueLists = {};
  // The values of one list matching `query` ([{value, label}]); asked once per list and query.
  function loadValues(url, source, query) {
    var key = source + "\u0000" + query;
    if (!valueLists[key]) {
      var address = url + "?source=" + encodeURIComponent(source) + "&q=" + encodeURIComponent(query);
      valueLists[key] = fetch(address, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { values: [] }; })
        .then(function (data) { return data.values || []; })
        .catch(function () { return []; });
    }
    return valueLists[key];
  }

  function fillList(list, options, prefix) {
    var seen = {};
    Array.prototype.forEach.call(list.options, function (option) { seen[option.value] = true; });
    options.forEach(function (option) {
      var value = (prefix || "") + option.value;
      if (seen[value]) return;
      seen[value] = true;
      list.appendChild(el("option", { value: value, label: option.label || "" }));
    });
  }

  // The text of a list value being typed: the last comma-separated part for list operators.
  function lastPart(text) {
    var parts = text.split(",");
    return parts[parts.length - 1].trim();
  }

  /* ---- one builder ---------------------------------------------------------------------- */

  function Builder(root, catalogue) {
    this.root = root;
    this.catalogue = catalogue;
    this.textarea = root.querySelector("textarea");
    this.tree = null;
    this.uid = nextId("builder");
    this.build();
  }

  Builder.prototype.build = function () {
    var self = this;
    var jsonPanel = this.root.querySelector(".tc-json-panel");
    this.builderTab = el("button", {
      type: "button", role: "tab", className: "tc-tab", id: this.uid + "-tab-builder",
      "aria-controls": this.uid + "-builder", text: "Builder",
    });
    this.jsonTab = el("button", {
      type: "button", role: "tab", className: "tc-tab", id: this.uid + "-tab-json",
      "aria-controls": this.uid + "-json", text: "JSON",
    });
    var tabs = el("div", { role: "tablist", className: "tc-tabs", "aria-label": "Edit the condition as" },
      [this.builderTab, this.jsonTab]);
    this.notice = el("p", { className: "tc-notice", role: "status", hidden: true });
    this.treeHolder = el("div", { className: "tc-tree" });
    this.builderPanel = el("div", {
      role: "tabpanel", className: "tc-builder-panel", id: this.uid + "-builder",
      "aria-labelledby": this.builderTab.id,
    }, [this.treeHolder]);
    jsonPanel.id = this.uid + "-json";
    jsonPanel.setAttribute("role", "tabpanel");
    jsonPanel.setAttribute("aria-labelledby", this.jsonTab.id);
    this.datalist = el("datalist", { id: this.uid + "-attributes" }, this.catalogue.rows.map(function (row) {
      return el("option", { value: row.name, label: attributeLabel(row) });
    }));
    this.valuesUrl = this.root.getAttribute("data-values-url");
    this.root.insertBefore(tabs, jsonPanel);
    this.root.insertBefore(this.notice, jsonPanel);
    this.root.insertBefore(this.builderPanel, jsonPanel);
    this.root.appendChild(this.datalist);
    if (!this.catalogue.available) {
      this.root.insertBefore(el("p", {
        className: "tc-help",
        text: "The attribute catalogue could not be loaded: every attribute is accepted unchecked.",
      }), tabs);
    }
    this.root.appendChild(this.buildTester());

    [this.builderTab, this.jsonTab].forEach(function (tab) {
      tab.addEventListener("click", function () { self.show(tab === self.jsonTab ? "json" : "builder"); });
      tab.addEventListener("keydown", function (event) {
        if (event.key === "ArrowLeft" || event.key === "ArrowRight" || event.key === "Home" || event.key === "End") {
          event.preventDefault();
          var other = tab === self.jsonTab ? self.builderTab : self.jsonTab;
          self.show(other === self.jsonTab ? "json" : "builder");
          other.focus();
        }
      });
    });
    // The builder's own inputs carry no name, but Enter in them would still submit the form.
    this.builderPanel.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && event.target.tagName === "INPUT") event.preventDefault();
    });
    this.root.classList.add("tc-ready");
    this.show(this.readTextarea() ? "builder" : "json");
  };

  // Parse the textarea into the builder; false (and a notice) when it cannot be shown.
  Builder.prototype.readTextarea = function () {
    var text = this.textarea.value.trim();
    var condition;
    try {
      condition = text ? JSON.parse(text) : {};
    } catch (error) {
      return this.cannotShow("The JSON is not valid (" + error.message + "). Fix it in the JSON tab.");
    }
    try {
      this.tree = parseCondition(condition, this.catalogue);
    } catch (error) {
      if (!(error instanceof Unrepresentable)) throw error;
      return this.cannotShow(error.message + " Edit this condition in the JSON tab; it is kept as it is.");
    }
    this.notice.hidden = true;
    this.treeHolder.hidden = false;
    this.render();
    return true;
  };

  Builder.prototype.cannotShow = function (message) {
    this.tree = null;
    this.notice.textContent = message;
    this.notice.hidden = false;
    this.treeHolder.hidden = true;
    this.treeHolder.textContent = "";
    return false;
  };

  Builder.prototype.show = function (which) {
    var json = which === "json";
    if (!json && this.mode === "json") this.readTextarea();
    this.mode = which;
    this.builderTab.setAttribute("aria-selected", String(!json));
    this.jsonTab.setAttribute("aria-selected", String(json));
    this.builderTab.tabIndex = json ? -1 : 0;
    this.jsonTab.tabIndex = json ? 0 : -1;
    this.builderPanel.hidden = json;
    this.root.querySelector(".tc-json-panel").hidden = !json;
  };

  // Write the builder's condition into the form field.
  Builder.prototype.write = function () {
    if (!this.tree) return;
    var condition = groupCondition(this.tree, this.catalogue) || {};
    this.textarea.value = JSON.stringify(condition, null, 2);
    this.textarea.dispatchEvent(new Event("change", { bubbles: true }));
  };

  Builder.prototype.render = function (focusId, focusRole) {
    this.treeHolder.textContent = "";
    this.treeHolder.appendChild(this.renderGroup(this.tree, null));
    if (focusId) {
      var target = this.treeHolder.querySelector('[data-node="' + focusId + '"] [data-role="' + focusRole + '"]');
      if (target) target.focus();
    }
  };

  Builder.prototype.renderGroup = function (group, parent) {
    var self = this;
    var selectId = nextId("group-type");
    var select = el("select", { id: selectId, className: "tc-group-type", "data-role": "type" },
      ["and", "or", "not"].map(function (type) {
        return el("option", { value: type, text: GROUP_LABELS[type], selected: group.type === type });
      }));
    select.addEventListener("change", function () {
      group.type = select.value;
      node.className = "tc-group tc-group-" + group.type + (parent ? "" : " tc-root");
      self.write();
    });
    var header = el("div", { className: "tc-group-header" }, [
      el("label", { for: selectId, className: "tc-label", text: parent ? "Group" : "Match" }),
      select,
    ]);
    if (parent) {
      var remove = el("button", { type: "button", className: "tc-remove tc-remove-group", text: "Remove group" });
      remove.addEventListener("click", function () { self.remove(group, parent); });
      header.appendChild(remove);
    }
    var children = el("div", { className: "tc-children" }, group.children.map(function (child) {
      return child.kind === "group" ? self.renderGroup(child, group) : self.renderRow(child, group);
    }));
    if (!group.children.length) {
      children.appendChild(el("p", { className: "tc-empty", text: parent ? "Empty group: it is left out." : "No conditions: matches every visitor." }));
    }
    var addRow = el("button", { type: "button", className: "tc-add-row", "data-role": "add-row", text: "Add condition" });
    var addGroup = el("button", { type: "button", className: "tc-add-group", "data-role": "add-group", text: "Add group" });
    addRow.addEventListener("click", function () {
      var row = newRow();
      group.children.push(row);
      self.write();
      self.render(row.id, "attribute");
    });
    addGroup.addEventListener("click", function () {
      // A new group inside AND is usually an OR, and the other way round.
      var inner = newGroup(group.type === "or" ? "and" : "or", [newRow()]);
      group.children.push(inner);
      self.write();
      self.render(inner.id, "type");
    });
    var node = el("div", {
      className: "tc-group tc-group-" + group.type + (parent ? "" : " tc-root"),
      role: "group", "aria-labelledby": selectId, "data-node": group.id,
    }, [header, children, el("div", { className: "tc-actions" }, [addRow, " ", addGroup])]);
    return node;
  };

  Builder.prototype.renderRow = function (row, parent) {
    var self = this;
    var ids = { attribute: nextId("attribute"), operator: nextId("operator"), value: nextId("value"), hint: nextId("hint") };
    var attribute = el("input", {
      type: "text", id: ids.attribute, className: "tc-attribute", "data-role": "attribute",
      list: this.datalist.id, value: row.attribute, autocomplete: "off", spellcheck: "false",
      "aria-describedby": ids.hint, placeholder: "attribute",
    });
    var operator = el("select", { id: ids.operator, className: "tc-operator", "data-role": "operator" });
    var valueInput = el("input", {
      type: "text", id: ids.value, className: "tc-value", "data-role": "value", value: row.value,
      autocomplete: "off", spellcheck: "false", "aria-describedby": ids.hint, placeholder: "value",
    });
    var choices = el("datalist", { id: nextId("choices") });
    var hint = el("span", { id: ids.hint, className: "tc-hint" });
    var valueBox = el("span", { className: "tc-field" }, [
      el("label", { for: ids.value, className: "tc-label", text: "Value" }), valueInput, choices,
    ]);
    var remove = el("button", { type: "button", className: "tc-remove tc-remove-row", text: "Remove", "aria-label": "Remove this condition" });

    var source = "";
    function suggestValues() {
      if (!self.valuesUrl || !source) return;
      var wanted = source;
      loadValues(self.valuesUrl, wanted, lastPart(valueInput.value)).then(function (options) {
        if (wanted === source) fillList(choices, options);
      });
    }
    function suggestAttributes() {
      // affinity.<tag>: the tag slugs, so an editor picks an existing tag.
      var name = attribute.value.trim();
      if (!self.valuesUrl || name.indexOf("affinity.") !== 0) return;
      loadValues(self.valuesUrl, "tag", name.slice("affinity.".length)).then(function (options) {
        fillList(self.datalist, options, "affinity.");
      });
    }

    function refresh() {
      var found = self.catalogue.lookup(row.attribute.trim());
      var allowed = self.catalogue.operatorsFor(row.attribute.trim());
      if (allowed.indexOf(row.op) < 0) {
        // Keep what a condition read from JSON says, even where the catalogue would not offer
        // it; once the editor changes the attribute, offer only what suits it.
        if (row.fromJson) allowed.push(row.op);
        else row.op = allowed[0];
      }
      var isArray = self.catalogue.typeOf(row.attribute.trim()) === "array";
      operator.textContent = "";
      allowed.forEach(function (id) {
        var label = (isArray && ARRAY_LABELS[id]) || OPERATORS[id].label;
        operator.appendChild(el("option", { value: id, text: label, selected: id === row.op }));
      });
      operator.value = row.op;
      valueBox.hidden = OPERATORS[row.op].value === "none";
      choices.textContent = "";
      var rowChoices = found && found.row.choices ? found.row.choices : [];
      rowChoices.forEach(function (choice) { choices.appendChild(el("option", { value: choice })); });
      source = row.op === "segment" ? "segment" : (found && found.row.values) || "";
      if (rowChoices.length || source) valueInput.setAttribute("list", choices.id);
      else valueInput.removeAttribute("list");
      valueInput.setAttribute("data-values", source);
      if (source) suggestValues();

      var messages = [];
      var unknown = false;
      var name = row.attribute.trim();
      if (!name) {
        messages.push("Choose an attribute; until then this row is left out.");
      } else if (!found && self.catalogue.available && row.op !== "segment") {
        unknown = true;
        messages.push("Not in the attribute catalogue: it is never set unless your own code sets it.");
      } else if (found && !found.type) {
        unknown = true;
        messages.push(found.row.name + " is " + found.row.type + ": this path never holds a value.");
      } else if (found) {
        messages.push(found.row.description + (found.row.live ? " (read from the request)" : ""));
      }
      var problem = name ? valueProblem(row, self.catalogue) : "";
      if (problem) messages.unshift(problem);
      hint.textContent = messages.join(" ");
      node.classList.toggle("tc-unknown", unknown);
      node.classList.toggle("tc-problem", Boolean(problem));
      attribute.setAttribute("aria-invalid", unknown ? "true" : "false");
    }

    attribute.addEventListener("input", function () {
      row.attribute = attribute.value;
      row.fromJson = false;
      suggestAttributes();
      refresh();
      self.write();
    });
    operator.addEventListener("change", function () {
      row.op = operator.value;
      refresh();
      self.write();
    });
    valueInput.addEventListener("input", function () {
      row.value = valueInput.value;
      refresh();
      self.write();
    });
    valueInput.addEventListener("focus", suggestValues);
    remove.addEventListener("click", function () { self.remove(row, parent); });

    var node = el("div", { className: "tc-row", role: "group", "aria-label": "Condition", "data-node": row.id }, [
      el("span", { className: "tc-field" }, [el("label", { for: ids.attribute, className: "tc-label", text: "Attribute" }), attribute]),
      el("span", { className: "tc-field" }, [el("label", { for: ids.operator, className: "tc-label", text: "Operator" }), operator]),
      valueBox,
      remove,
      hint,
    ]);
    refresh();
    return node;
  };

  Builder.prototype.remove = function (node, parent) {
    parent.children.splice(parent.children.indexOf(node), 1);
    this.write();
    this.render(parent.id, "add-row");
  };

  /* ---- test against a visitor ----------------------------------------------------------- */

  Builder.prototype.buildTester = function () {
    var self = this;
    var titleId = nextId("test-title");
    var fields = [];
    function field(name, label, extra) {
      var id = nextId("test-" + name);
      var input = el("input", Object.assign({ type: "text", id: id, className: "tc-test-" + name, autocomplete: "off" }, extra || {}));
      fields.push(el("span", { className: "tc-field tc-field-labelled" }, [el("label", { for: id, text: label }), input]));
      return input;
    }
    this.visitorInput = field("visitor", "Visitor id", { placeholder: "external id or cookie id" });
    this.contextInputs = {};
    if (this.root.hasAttribute("data-test-context")) {
      var deviceChoices = el("datalist", { id: nextId("devices") });
      var device = this.catalogue.lookup("device");
      ((device && device.row.choices) || []).forEach(function (choice) {
        deviceChoices.appendChild(el("option", { value: choice }));
      });
      this.contextInputs.device = field("device", "device", { list: deviceChoices.id, placeholder: "optional" });
      this.contextInputs.utm_source = field("utm_source", "utm_source", { placeholder: "optional" });
      this.contextInputs.country = field("country", "country", { placeholder: "optional, e.g. DE", size: 8 });
      fields.push(deviceChoices);
    }
    var run = el("button", { type: "button", className: "tc-test-run", text: "Test" });
    this.result = el("div", { className: "tc-test-result", "aria-live": "polite" });
    run.addEventListener("click", function () { self.runTest(run); });
    var section = el("div", { className: "tc-test", role: "group", "aria-labelledby": titleId }, [
      el("p", { className: "tc-test-title", id: titleId, text: "Test against a visitor" }),
      el("p", { className: "tc-help", text: "The request context is empty unless you fill in the optional fields." }),
      el("div", { className: "tc-test-fields" }, fields.concat([run])),
      this.result,
    ]);
    section.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && event.target.tagName === "INPUT") {
        event.preventDefault();  // not the admin form's submit: run the test
        self.runTest(run);
      }
    });
    return section;
  };

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  Builder.prototype.runTest = function (button) {
    var self = this;
    var body = new URLSearchParams();
    body.set("condition", this.textarea.value);
    body.set("visitor", this.visitorInput.value.trim());
    Object.keys(this.contextInputs).forEach(function (name) {
      var value = self.contextInputs[name].value.trim();
      if (value) body.set(name, value);
    });
    button.disabled = true;
    this.result.textContent = "Testing…";
    fetch(this.root.getAttribute("data-test-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      body: body,
    }).then(function (response) {
      return response.json().catch(function () {
        return { error: "The server answered " + response.status + "." };
      });
    }).then(function (data) {
      self.showResult(data);
    }).catch(function (error) {
      self.showResult({ error: "Could not reach the server: " + error.message });
    }).then(function () {
      button.disabled = false;
    });
  };

  Builder.prototype.showResult = function (data) {
    this.result.textContent = "";
    if (data.error) {
      this.result.appendChild(el("p", { className: "tc-test-error", role: "alert", text: data.error }));
      return;
    }
    var verdict = el("p", {
      className: "tc-verdict " + (data.matched ? "tc-matched" : "tc-failed"),
      "data-matched": String(data.matched),
    }, [
      el("span", { className: "tc-mark", "aria-hidden": "true", text: data.matched ? "✓ " : "✗ " }),
      "Visitor " + data.visitor + " ",
      el("strong", { text: data.matched ? "matches" : "does not match" }),
      data.matched ? "." : (data.first_failure ? ": the first failing part is " : "."),
      data.matched || !data.first_failure ? null : el("code", { text: data.first_failure }),
    ]);
    this.result.appendChild(verdict);
    if (!data.personalization_allowed) {
      this.result.appendChild(el("p", {
        className: "tc-warning",
        text: "This visitor has not allowed personalization: pages show them the default content whatever the rules say.",
      }));
    }
    var problems = (data.issues || []).map(function (text) { return el("li", { className: "tc-issue", text: text }); })
      .concat((data.warnings || []).map(function (text) { return el("li", { className: "tc-warning", text: text }); }));
    if (problems.length) this.result.appendChild(el("ul", { className: "tc-problems" }, problems));
    this.result.appendChild(el("ul", { className: "tc-explanation", "aria-label": "Which parts matched" },
      [renderExplanation(data.explanation, data.first_failure)]));
    this.result.appendChild(el("details", { className: "tc-attributes" }, [
      el("summary", { text: "Attributes of " + data.visitor }),
      el("pre", { text: JSON.stringify(data.attributes, null, 2) }),
    ]));
  };

  var NODE_LABELS = {
    all: "All of", and: "All of ($and)", or: "Any of ($or)", nor: "None of ($nor)",
    not: "Not ($not)", unknown: "Unknown operator", invalid: "Not a condition",
  };

  function renderExplanation(node, firstFailure) {
    var first = node.path === firstFailure;
    var parts = [
      el("span", { className: "tc-mark", "aria-hidden": "true", text: node.matched ? "✓" : "✗" }),
      el("span", { className: "tc-sr", text: node.matched ? "matched: " : "failed: " }),
    ];
    if (node.kind === "field") {
      parts.push(el("code", { text: node.attribute }), " ", el("code", { className: "tc-test-json", text: JSON.stringify(node.test) }),
        el("span", { className: "tc-seen", text: node.found ? " — value: " + JSON.stringify(node.value) : " — not set" }));
    } else if (node.kind === "segment") {
      parts.push("in segment ", el("code", { text: JSON.stringify(node.segment) }),
        el("span", { className: "tc-seen", text: " — segments: " + JSON.stringify(node.value) }));
    } else {
      parts.push(NODE_LABELS[node.kind] || node.kind);
    }
    parts.push(" ", el("span", { className: "tc-path", text: node.path }));
    if (first) parts.push(el("strong", { className: "tc-first-label", text: " ← first failing part" }));
    var children = (node.children || []).map(function (child) { return renderExplanation(child, firstFailure); });
    (node.operators || []).forEach(function (op) {
      children.push(el("li", { className: op.matched ? "tc-matched" : "tc-failed" }, [
        el("span", { className: "tc-mark", "aria-hidden": "true", text: op.matched ? "✓" : "✗" }),
        el("span", { className: "tc-sr", text: op.matched ? "matched: " : "failed: " }),
        el("code", { text: op.operator + " " + JSON.stringify(op.argument) }),
      ]));
    });
    return el("li", {
      className: (node.matched ? "tc-matched" : "tc-failed") + (first ? " tc-first-failure" : ""),
      "data-path": node.path,
    }, parts.concat(children.length ? [el("ul", {}, children)] : []));
  }

  /* ---- start ---------------------------------------------------------------------------- */

  function start(container) {
    var roots = container.querySelectorAll ? container.querySelectorAll(".tailor-condition") : [];
    Array.prototype.forEach.call(roots, function (root) {
      // The inline formset's template row is cloned when a rule is added: start the clone.
      if (root.closest(".empty-form") || root.hasAttribute("data-started")) return;
      root.setAttribute("data-started", "");
      loadCatalogue(root.getAttribute("data-attributes-url")).then(function (catalogue) {
        root.tailorBuilder = new Builder(root, catalogue);
      });
    });
  }

  document.addEventListener("formset:added", function (event) { start(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { start(document); });
  } else {
    start(document);
  }

  // For tests and the curious: the JSON <-> builder conversions without a page.
  window.TailorConditionBuilder = {
    parse: function (condition, rows) { return parseCondition(condition, new Catalogue(rows || [])); },
    write: function (tree, rows) { return groupCondition(tree, new Catalogue(rows || [])) || {}; },
  };
})();
