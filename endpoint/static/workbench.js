/* The query editor of /query: YASQE (editor) and YASR (results) from the vendored YASGUI
 * bundle (static/yasgui/), set up for this server only.
 *
 * Everything it talks to is on this server, by URLs the page gives in data- attributes of
 * #workbench (so it works under any path prefix behind a proxy): /sparql runs the queries,
 * /query/examples.json lists the example library, /complete suggests our classes,
 * properties and concepts. Each of YASGUI's defaults that would reach another server is
 * replaced: the endpoint (dbpedia.org), the class and property suggestions (Linked Open
 * Vocabularies), the prefix list (prefix.cc when configured). YASR's chart plugin needs
 * Google Charts, so the bundle does not include it: the "Chart" view below draws a bar
 * chart as SVG itself.
 *
 * Without this script (or without the bundle) the page is a plain form that submits to
 * /sparql; this script hides that form and shows the editor, starting from its query.
 */
(function () {
  "use strict";

  var root = document.getElementById("workbench");
  var form = document.getElementById("plain-form");
  var Yasqe = window.Yasqe;
  var Yasr = window.Yasr;
  if (!root || !form || !Yasqe || !Yasr) {
    return; // the plain form stays
  }

  var ENDPOINT_PATH = root.dataset.endpoint;
  var ENDPOINT = new URL(ENDPOINT_PATH, window.location.href).href;
  var EDITOR_PATH = root.dataset.editor;
  var COMPLETE = root.dataset.complete;
  var EXAMPLES = root.dataset.examples;
  var PREFIXES = JSON.parse(root.dataset.prefixes);
  /* Suggestions asked of /complete at a time, and the shortest text worth asking about. */
  var SUGGESTIONS = 20;
  var MIN_TEXT = 2;
  /* A bar chart draws at most this many rows (the table shows them all). */
  var MAX_BARS = 40;
  var NUMERIC = /#(integer|decimal|double|float|long|int|short|byte|nonNegativeInteger|positiveInteger|negativeInteger|nonPositiveInteger|unsignedLong|unsignedInt|unsignedShort|unsignedByte)$/;
  var CLASS_PROPERTIES = ["a", "rdf:type", "rdfs:domain", "rdfs:range"];
  /* A local name that may follow "prefix:" unescaped (a safe subset of SPARQL's PN_LOCAL). */
  /* The term the cursor is at the end of: an IRI being typed, or a (prefixed) name. */
  var TERM_BEFORE_CURSOR = /(?:<[^<>\s]*|[A-Za-z0-9_.-]*:?[A-Za-z0-9_.%-]*)$/;
  var PLAIN_LOCAL = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?$/;

  /* -- autocompletion from /complete ------------------------------------------------- */

  var cache = new Map();

  function lookUp(kind, text) {
    if (!text || text.length < MIN_TEXT) {
      return Promise.resolve([]);
    }
    var key = kind + "\u0000" + text;
    if (!cache.has(key)) {
      var url = COMPLETE + "?" + new URLSearchParams({q: text.slice(0, 200), kind: kind,
                                                      limit: String(SUGGESTIONS)});
      cache.set(key, fetch(url, {headers: {Accept: "application/json"}})
        .then(function (response) { return response.ok ? response.json() : {results: []}; })
        .then(function (body) { return Array.isArray(body.results) ? body.results : []; })
        .catch(function () { cache.delete(key); return []; }));
      if (cache.size > 200) {
        cache.delete(cache.keys().next().value);
      }
    }
    return cache.get(key);
  }

  /* The text to search for in the token under the cursor: "pb:promis" -> "promis",
   * "<https://…/def/promis" -> "promis", "promis" -> "promis". */
  function searchText(term) {
    var text = term.trim();
    if (text.charAt(0) === "<") {
      text = text.replace(/^<|>$/g, "");
      return text.slice(Math.max(text.lastIndexOf("/"), text.lastIndexOf("#")) + 1);
    }
    var colon = text.indexOf(":");
    return colon >= 0 ? text.slice(colon + 1) : text;
  }

  /* How a suggestion is written into the query: its prefixed name when the prefix is
   * declared in the query or is one of ours (then the PREFIX line is added), a prefixed
   * name from the query's own declarations, or else the full IRI in angle brackets. */
  function asWritten(yasqe, result) {
    var declared = yasqe.getPrefixesFromQuery();
    if (result.prefixed && result.prefixed.charAt(0) !== "<") {
      var name = result.prefixed.split(":")[0];
      if (declared[name] !== undefined && result.iri.indexOf(declared[name]) === 0) {
        return result.prefixed;
      }
      if (declared[name] === undefined && PREFIXES[name] !== undefined &&
          result.iri.indexOf(PREFIXES[name]) === 0) {
        var added = {};
        added[name] = PREFIXES[name];
        yasqe.addPrefixes(added);
        return result.prefixed;
      }
    }
    for (var prefix in declared) {
      var namespace = declared[prefix];
      if (namespace && result.iri.indexOf(namespace) === 0 &&
          PLAIN_LOCAL.test(result.iri.slice(namespace.length))) {
        return prefix + ":" + result.iri.slice(namespace.length);
      }
    }
    return "<" + result.iri + ">";
  }

  function describe(result) {
    var text = result.label || result.prefixed || result.iri;
    text += " (" + result.kind + (result.prefixed ? ", " + result.prefixed : "") + ")";
    var note = result.note && result.note.length > 90 ? result.note.slice(0, 89) + "\u2026"
                                                       : result.note;
    return note ? text + " \u2014 " + note : text;
  }

  function isTermToken(token) {
    return Boolean(token.string) && !/^[?$"'(){}.;,]/.test(token.string.trim());
  }

  function lastProperty(yasqe, token) {
    var previous = yasqe.getPreviousNonWsToken(yasqe.getDoc().getCursor().line, token);
    return previous && previous.state ? previous.state.lastProperty : undefined;
  }

  var positions = {
    property: function (yasqe) {
      var token = yasqe.getCompleteToken();
      return isTermToken(token) && token.state.possibleCurrent.indexOf("a") >= 0;
    },
    "class": function (yasqe) {
      var token = yasqe.getCompleteToken();
      return isTermToken(token) && CLASS_PROPERTIES.indexOf(lastProperty(yasqe, token)) >= 0;
    },
    /* An object position after any other property: where concepts (ratings, topics,
     * purposes…) are written. */
    concept: function (yasqe) {
      var token = yasqe.getCompleteToken();
      if (!isTermToken(token) || token.state.possibleCurrent.indexOf("a") >= 0) {
        return false;
      }
      var property = lastProperty(yasqe, token);
      return Boolean(property) && CLASS_PROPERTIES.indexOf(property) < 0;
    }
  };

  function termCompleter(kind) {
    var byIri = new Map();
    var written = new Map();
    return {
      name: "pb-" + kind,
      bulk: false,
      autoShow: true,
      persistenceId: null,
      isValidCompletionPosition: positions[kind],
      preProcessToken: function (yasqe, token) {
        /* The whole term before the cursor: the tokenizer may cut "pb:promis" in two. */
        var cursor = yasqe.getDoc().getCursor();
        var before = yasqe.getDoc().getLine(cursor.line).slice(0, cursor.ch);
        var term = before.match(TERM_BEFORE_CURSOR)[0];
        token.string = term;
        token.from = {line: cursor.line, ch: cursor.ch - term.length};
        token.autocompletionString = searchText(term);
        return token;
      },
      get: function (yasqe, token) {
        return lookUp(kind, token.autocompletionString).then(function (results) {
          return results.map(function (result) {
            byIri.set(result.iri, result);
            return result.iri;
          });
        });
      },
      postProcessSuggestion: function (yasqe, token, iri) {
        var result = byIri.get(iri) || {iri: iri, kind: kind};
        var text = asWritten(yasqe, result);
        written.set(text, result);
        return text;
      },
      postprocessHints: function (yasqe, hints) {
        return hints.map(function (hint) {
          var result = written.get(hint.text);
          if (result) {
            hint.displayText = describe(result);
          }
          return hint;
        });
      }
    };
  }

  Yasqe.forkAutocompleter("prefixes", {
    name: "pb-prefixes",
    persistenceId: null,
    get: Object.keys(PREFIXES).map(function (name) {
      return name + ": <" + PREFIXES[name] + ">";
    })
  }, false);
  ["class", "property", "concept"].forEach(function (kind) {
    Yasqe.registerAutocompleter(termCompleter(kind), false);
  });
  /* Replaces the defaults (whose class and property lists come from the internet). */
  Yasqe.defaults.autocompleters = ["variables", "pb-prefixes", "pb-class", "pb-property",
                                   "pb-concept"];

  /* -- the chart view: a bar chart of a label column and a numeric column, in SVG ----- */

  var SVG = "http://www.w3.org/2000/svg";

  function svg(name, attributes, text) {
    var element = document.createElementNS(SVG, name);
    Object.keys(attributes || {}).forEach(function (key) {
      element.setAttribute(key, attributes[key]);
    });
    if (text !== undefined) {
      element.textContent = text;
    }
    return element;
  }

  function isNumber(term) {
    return Boolean(term) && term.type !== "uri" && term.type !== "bnode" &&
      (NUMERIC.test(term.datatype || "") ||
       (!term.datatype && !term["xml:lang"] && /^-?\d+(\.\d+)?$/.test(term.value)));
  }

  /* {labels, value} variable names for a chart of these results, or null: the first
   * column of numbers, labelled by the first two columns of text (joined), or else by the first
   * column of IRIs. */
  function chartColumns(results) {
    if (!results || !results.getVariables || !results.getBindings) {
      return null;
    }
    var variables = results.getVariables() || [];
    var rows = results.getBindings() || [];
    if (!rows.length) {
      return null;
    }
    var value = variables.find(function (v) {
      return rows.every(function (row) { return isNumber(row[v]); });
    });
    function all(v, test) {
      return v !== value && rows.every(function (row) { return row[v] && test(row[v]); });
    }
    var labels = variables.filter(function (v) {
      return all(v, function (term) { return term.type !== "uri" && !isNumber(term); });
    }).slice(0, 2);
    if (!labels.length) {
      labels = variables.filter(function (v) {
        return all(v, function (term) { return term.type === "uri"; });
      }).slice(0, 1);
    }
    return value && labels.length ? {labels: labels, value: value} : null;
  }

  function shortLabel(term, prefixes) {
    if (term.type !== "uri") {
      return term.value;
    }
    for (var prefix in prefixes) {
      if (term.value.indexOf(prefixes[prefix]) === 0) {
        return prefix + ":" + term.value.slice(prefixes[prefix].length);
      }
    }
    return term.value.slice(Math.max(term.value.lastIndexOf("/"), term.value.lastIndexOf("#")) + 1);
  }

  function barChart(rows, columns, prefixes) {
    var shown = rows.slice(0, MAX_BARS);
    var values = shown.map(function (row) { return Number(row[columns.value].value); });
    var low = Math.min(0, Math.min.apply(null, values));
    var high = Math.max(0, Math.max.apply(null, values));
    var span = high - low || 1;
    var barHeight = 22;
    var labelWidth = 300;
    var plotWidth = 560;
    var height = shown.length * barHeight + 10;
    var id = "chart-title-" + Date.now();
    var chart = svg("svg", {
      "class": "pb-chart", role: "img", "aria-labelledby": id,
      viewBox: "0 0 " + (labelWidth + plotWidth + 80) + " " + height,
      width: "100%", preserveAspectRatio: "xMinYMin meet"
    });
    var caption = "Bar chart of ?" + columns.value + " by ?" + columns.labels.join(", ?") +
      (rows.length > shown.length ? " (the first " + shown.length + " of " + rows.length + " rows)" : "");
    chart.appendChild(svg("title", {id: id}, caption));
    shown.forEach(function (row, i) {
      var y = 5 + i * barHeight;
      var value = values[i];
      var x = labelWidth + ((Math.min(value, 0) - low) / span) * plotWidth;
      var width = Math.max(1, (Math.abs(value) / span) * plotWidth);
      var name = columns.labels.map(function (v) {
        return shortLabel(row[v], prefixes);
      }).join(" \u00b7 ");
      var group = svg("g", {"class": "bar"});
      group.appendChild(svg("title", {}, name + ": " + row[columns.value].value));
      group.appendChild(svg("text", {x: labelWidth - 8, y: y + 15, "text-anchor": "end"},
                            name.length > 42 ? name.slice(0, 41) + "\u2026" : name));
      group.appendChild(svg("rect", {x: x, y: y + 3, width: width, height: barHeight - 6}));
      group.appendChild(svg("text", {x: x + width + 6, y: y + 15}, row[columns.value].value));
      chart.appendChild(group);
    });
    return chart;
  }

  function ChartPlugin(yasr) {
    this.yasr = yasr;
    this.priority = 5;
    this.label = "Chart";
  }
  ChartPlugin.prototype.canHandleResults = function () {
    return chartColumns(this.yasr.results) !== null;
  };
  ChartPlugin.prototype.getIcon = function () {
    var icon = svg("svg", {viewBox: "0 0 16 16", width: "15", height: "15", "aria-hidden": "true"});
    [[1, 9, 3, 6], [6, 4, 3, 11], [11, 7, 3, 8]].forEach(function (b) {
      icon.appendChild(svg("rect", {x: b[0], y: b[1], width: b[2], height: b[3]}));
    });
    var wrapper = document.createElement("div");
    wrapper.className = "svgImg";
    wrapper.appendChild(icon);
    return wrapper;
  };
  ChartPlugin.prototype.draw = function () {
    var columns = chartColumns(this.yasr.results);
    var figure = document.createElement("figure");
    figure.className = "pb-chart-figure";
    this.chart = barChart(this.yasr.results.getBindings(), columns, this.yasr.getPrefixes());
    figure.appendChild(this.chart);
    this.yasr.resultsEl.appendChild(figure);
  };
  ChartPlugin.prototype.download = function () {
    var chart = this.chart;
    return {
      getData: function () { return chart ? new XMLSerializer().serializeToString(chart) : ""; },
      contentType: "image/svg+xml",
      title: "Download the chart (SVG)",
      filename: "chart.svg"
    };
  };
  Yasr.registerPlugin("chart", ChartPlugin);

  /* -- the editor, the results, and the links around them ----------------------------- */

  var textarea = form.querySelector("textarea");
  var yasqe = new Yasqe(document.getElementById("yasqe"), {
    value: textarea.value,
    persistenceId: null,       // the page's query wins, not the last one typed
    consumeShareLink: null,    // YASQE's own URL handling: ?query= is read by the server
    createShareableLink: null, // its share pop-up: the "Link to this query" below instead
    editorHeight: "22rem",
    requestConfig: {
      endpoint: ENDPOINT,
      method: "POST",
      acceptHeaderSelect: "application/sparql-results+json",
      acceptHeaderGraph: "text/turtle"
    }
  });
  var yasr = new Yasr(document.getElementById("yasr"), {
    persistenceId: null,
    prefixes: function () {
      return Object.assign({}, PREFIXES, yasqe.getPrefixesFromQuery());
    },
    pluginOrder: ["table", "chart", "response"],
    defaultPlugin: "table"
  });
  yasqe.on("queryResponse", function (_editor, response, duration) {
    yasr.setResponse(response, duration);
  });

  /* Names for the controls YASGUI draws without one (WCAG 4.1.2): the editor's text
   * field, and the results' page-size list, which YASR redraws with every result. */
  yasqe.getInputField().setAttribute("aria-label", "SPARQL query");
  var CONTROL_NAMES = {".tableSizer": "Page size",
                       ".yasr_external_ref_btn": "About this view (YASGUI documentation)"};
  function nameControls() {
    Object.keys(CONTROL_NAMES).forEach(function (selector) {
      root.querySelectorAll(selector + ":not([aria-label])").forEach(function (control) {
        control.setAttribute("aria-label", CONTROL_NAMES[selector]);
      });
    });
  }
  yasr.on("drawn", nameControls);

  /* Result IRIs under the public base (https://w3id.org/practicebank/...) open this
   * server's page of the resource, so a click works before w3id.org points here; the
   * link's text keeps the public IRI. */
  var PUBLIC_BASE = root.dataset.publicBase;
  var LOCAL_ROOT = root.dataset.localRoot;
  function localLinks() {
    if (!PUBLIC_BASE || PUBLIC_BASE === LOCAL_ROOT) {
      return;
    }
    document.getElementById("yasr").querySelectorAll("a[href]").forEach(function (a) {
      var href = a.getAttribute("href");
      if (href.indexOf(PUBLIC_BASE) === 0) {
        a.setAttribute("href", LOCAL_ROOT + href.slice(PUBLIC_BASE.length));
      }
    });
  }
  yasr.on("drawn", localLinks);
  new MutationObserver(function () { nameControls(); localLinks(); }).observe(
    document.getElementById("yasr"), {childList: true, subtree: true});
  nameControls(); // what YASR drew before the observer was watching

  var shareLink = document.getElementById("share-link");
  var downloads = {
    csv: document.getElementById("download-csv"),
    json: document.getElementById("download-json"),
    ttl: document.getElementById("download-ttl")
  };
  /* Which downloads each kind of query has, by YASQE's query type. */
  var DOWNLOADS = {
    SELECT: ["csv", "json"], ASK: ["json"], CONSTRUCT: ["ttl"], DESCRIBE: ["ttl"]
  };

  function updateLinks() {
    var query = yasqe.getValue();
    var share = new URL(EDITOR_PATH, window.location.href);
    share.search = new URLSearchParams({query: query}).toString();
    shareLink.href = share.href;
    var offered = DOWNLOADS[yasqe.getQueryMode() === "query" ? yasqe.getQueryType() : ""] || [];
    Object.keys(downloads).forEach(function (format) {
      var link = downloads[format];
      link.hidden = offered.indexOf(format) < 0;
      link.href = ENDPOINT_PATH + "?" + new URLSearchParams({query: query, format: format});
    });
    document.getElementById("downloads").hidden = offered.length === 0;
  }

  var pending;
  yasqe.on("change", function () {
    window.clearTimeout(pending);
    pending = window.setTimeout(updateLinks, 250);
  });

  document.getElementById("copy-share").addEventListener("click", function () {
    var status = document.getElementById("copy-status");
    updateLinks();
    if (!navigator.clipboard) {
      status.textContent = "Copying needs a secure (https) page: use the link instead.";
      return;
    }
    navigator.clipboard.writeText(shareLink.href).then(
      function () { status.textContent = "Link copied."; },
      function () { status.textContent = "Could not copy: use the link instead."; });
  });

  /* -- the example library ------------------------------------------------------------- */

  var examples;

  function loadExamples() {
    if (!examples) {
      examples = fetch(EXAMPLES, {headers: {Accept: "application/json"}})
        .then(function (response) {
          if (!response.ok) { throw new Error(response.statusText); }
          return response.json();
        })
        .then(function (body) { return body.examples; });
      examples.catch(function () { examples = undefined; });
    }
    return examples;
  }

  function showExample(example) {
    var chosen = document.getElementById("chosen");
    chosen.replaceChildren();
    var heading = document.createElement("h2");
    heading.textContent = example.title;
    var text = document.createElement("p");
    text.textContent = example.description;
    chosen.append(heading, text);
    chosen.hidden = false;
    yasqe.setValue(example.query);
    updateLinks();
    window.history.replaceState(null, "", example.url);
    root.scrollIntoView({block: "start"});
    yasqe.focus();
  }

  document.getElementById("example-list").addEventListener("click", function (event) {
    var link = event.target.closest("a[data-example]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) {
      return; // a new tab or window loads the page itself
    }
    event.preventDefault();
    loadExamples().then(function (list) {
      var example = list.find(function (e) { return e.name === link.dataset.example; });
      if (example) {
        showExample(example);
      } else {
        window.location.href = link.href;
      }
    }, function () { window.location.href = link.href; });
  });

  form.hidden = true;
  root.hidden = false;
  yasqe.refresh();
  updateLinks();
  window.practicebankWorkbench = {yasqe: yasqe, yasr: yasr}; // for the browser tests
}());
