// newsearch serve: results as you type. The page works without this script (a plain GET form,
// rendered on the server); this only enhances it: it fetches /api/search (the JSON of
// `newsearch search --json --facets`) and redraws the results, facets and pages in place,
// keeping the URL and history in step. Article text is untrusted: it is only ever put into the
// page as text (textContent), never as HTML.
"use strict";

(function () {
  const DEBOUNCE_MS = 250;
  const FILTERS = ["source", "tag", "month"];
  const FACET_VALUES_SHOWN = 10; // as the server's page (pages.FACET_VALUES_SHOWN)
  const form = document.getElementById("search");
  const box = document.getElementById("q");
  if (!form || !box || !document.getElementById("content")) {
    installKeys();
    return; // the article view: only the keys
  }
  let timer = null;
  let inFlight = null;
  // The search shown, as the form would say it (no page, sorted): typing that changes nothing
  // else (a blur's "change", say) must not send the reader back to page 1.
  let shownForm = formKey(new URLSearchParams(location.search));

  function formKey(params) {
    return [...params].filter(([name]) => name !== "page").map(([name, value]) => name + "=" + value).sort().join("&");
  }

  // Parameters of the form, without empty values and with page 1 (a new search starts there).
  function formParams() {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (String(value).trim() && name !== "page") params.set(name, String(value).trim());
    }
    if (params.get("sort") === "relevance") params.delete("sort");
    return params;
  }

  function searching(params) {
    return Boolean(params.get("q") || FILTERS.some((name) => params.get(name)));
  }

  // Make the form say what params say (after a click on a facet, or Back).
  function fillForm(params) {
    for (const name of ["q", "since", "until"]) {
      const input = form.elements.namedItem(name);
      if (input && input !== document.activeElement) input.value = params.get(name) || "";
    }
    form.elements.namedItem("sort").value = params.get("sort") || "relevance";
    const filters = document.getElementById("filters");
    filters.replaceChildren(...FILTERS.filter((name) => params.get(name)).map((name) =>
      el("input", { type: "hidden", name: name, value: params.get(name) })));
  }

  // Search for params and show the results; history: "push", "replace" or null (Back/Forward).
  async function show(params, history) {
    const query = params.toString();
    const url = query ? "/?" + query : "/";
    if (history === "push" && url !== location.pathname + location.search) window.history.pushState(null, "", url);
    if (history === "replace") window.history.replaceState(null, "", url);
    document.title = (params.get("q") || "Search") + " – newsearch";
    shownForm = formKey(params);
    if (inFlight) inFlight.abort();
    if (!searching(params)) {
      render(null, params, null);
      return;
    }
    const controller = new AbortController();
    inFlight = controller;
    try {
      const response = await fetch("/api/search?" + query, { signal: controller.signal,
                                                              headers: { Accept: "application/json" } });
      const data = await response.json();
      if (controller !== inFlight) return; // a newer search started meanwhile
      render(response.ok ? data : null, params, response.ok ? null : data.error || "the search failed");
    } catch (error) {
      if (error.name !== "AbortError") render(null, params, "the server could not be reached");
    } finally {
      if (controller === inFlight) inFlight = null;
    }
  }

  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  // Text with its [start, end) spans in <mark>. Spans count code points (Python's str
  // offsets), so the text is split into code points, not UTF-16 units.
  function marked(text, spans) {
    const points = Array.from(text || "");
    const out = document.createDocumentFragment();
    let last = 0;
    for (const [start, end] of [...(spans || [])].sort((a, b) => a[0] - b[0])) {
      if (start < last || end <= start) continue;
      out.append(points.slice(last, start).join(""), el("mark", {}, points.slice(start, end).join("")));
      last = end;
    }
    out.append(points.slice(last).join(""));
    return out;
  }

  function withParams(params, changes) {
    const next = new URLSearchParams(params);
    for (const [name, value] of Object.entries(changes)) {
      if (value === "" || value === null || (name === "page" && value === 1)) next.delete(name);
      else next.set(name, String(value));
    }
    return "/?" + next.toString();
  }

  function sourceLabel(source) {
    try {
      if (source.includes("://")) return new URL(source).hostname.replace(/^feeds\./, "").replace(/^www\./, "");
    } catch (error) { /* not a URL: shown as it is */ }
    return source;
  }

  function safeLink(link) {
    return /^https?:\/\//i.test((link || "").trim()) ? link : null;
  }

  function articleUrl(id, query) {
    return "/article/" + encodeURIComponent(id) + (query ? "?q=" + encodeURIComponent(query) : "");
  }

  function hitItem(hit, query) {
    const url = articleUrl(hit.id, query);
    const meta = el("p", { class: "meta" });
    if (hit.date) meta.append(el("time", {}, hit.date.slice(0, 10)), " · ");
    meta.append(sourceLabel(hit.source));
    for (const tag of hit.tags) meta.append(" ", el("span", { class: "tag" }, tag));
    const link = safeLink(hit.link);
    if (link) meta.append(" · ", el("a", { href: link, rel: "noopener noreferrer" }, "original"));
    meta.append(" · ", el("a", { href: url + "#related" }, "related"));
    const snippet = el("p", { class: "snippet" });
    let previous = "";
    for (const piece of hit.snippets) {
      // An ellipsis between fragments, unless one already ends or starts with one.
      if (previous) snippet.append(previous.endsWith("…") || piece.text.startsWith("…") ? " " : " … ");
      snippet.append(marked(piece.text, piece.spans));
      previous = piece.text;
    }
    return el("li", { class: "hit" },
      el("h3", {}, el("a", { class: "title", href: url }, marked(hit.title || hit.path, hit.title_spans))),
      meta, snippet);
  }

  function facetList(data, params) {
    const sections = [];
    for (const name of FILTERS) {
      const counts = (data && data.facets && data.facets[name]) || {};
      const active = params.get(name) || "";
      const values = Object.entries(counts).slice(0, FACET_VALUES_SHOWN);
      if (active in counts && !values.some(([value]) => value === active)) values.push([active, counts[active]]);
      if (!values.length) continue;
      sections.push(el("section", { class: "facet" }, el("h2", {}, name), el("ul", {}, ...values.map(([value, count]) =>
        el("li", {}, el("a", { href: withParams(params, { [name]: value === active ? "" : value, page: 1 }),
                               "data-nav": true, class: value === active ? "active" : null,
                               "aria-current": value === active ? "true" : null },
                        name === "source" ? sourceLabel(value) : value, " ", el("span", { class: "count" }, String(count))))))));
    }
    return sections;
  }

  function pageNav(data, params) {
    if (data.pages <= 1) return null;
    const nav = el("nav", { class: "pages", "aria-label": "Pages" });
    if (data.page > 1) nav.append(el("a", { href: withParams(params, { page: data.page - 1 }), "data-nav": true, rel: "prev" }, "‹ previous"));
    const numbers = new Set([1, data.pages]);
    for (let n = Math.max(1, data.page - 2); n <= Math.min(data.pages, data.page + 2); n++) numbers.add(n);
    let previous = 0;
    for (const n of [...numbers].sort((a, b) => a - b)) {
      if (n - previous > 1) nav.append(el("span", { class: "gap" }, "…"));
      nav.append(n === data.page ? el("span", { class: "current", "aria-current": "page" }, String(n))
                                 : el("a", { href: withParams(params, { page: n }), "data-nav": true }, String(n)));
      previous = n;
    }
    if (data.page < data.pages) nav.append(el("a", { href: withParams(params, { page: data.page + 1 }), "data-nav": true, rel: "next" }, "next ›"));
    return nav;
  }

  function render(data, params, error) {
    const main = document.getElementById("main");
    const parts = [];
    if (error) parts.push(el("p", { class: "error", role: "alert" }, error));
    if (data) {
      const status = el("p", { class: "status" }, data.total.toLocaleString("en") + " article" + (data.total === 1 ? "" : "s") +
        (data.pages > 1 ? " · page " + data.page + " of " + data.pages : "") + " · " + Math.round(data.elapsed * 1000) + " ms");
      for (const name of FILTERS.filter((name) => params.get(name))) {
        const value = params.get(name);
        status.append(el("a", { class: "chip", href: withParams(params, { [name]: "", page: 1 }), "data-nav": true, title: "Remove this filter" },
          name + ": " + (name === "source" ? sourceLabel(value) : value) + " ✕"));
      }
      parts.push(status);
      if (data.suggestion) {
        parts.push(el("p", { class: "suggestion" }, "Did you mean ",
          el("a", { href: withParams(params, { q: data.suggestion, page: 1 }), "data-nav": true }, data.suggestion), "?"));
      }
      if (!data.hits.length) parts.push(el("p", { class: "empty" }, data.total ? "Page " + data.page + " is past the last page." : "No articles match."));
      parts.push(el("ol", { class: "hits", start: data.hits.length ? data.hits[0].rank : 1 }, ...data.hits.map((hit) => hitItem(hit, params.get("q") || ""))));
      parts.push(pageNav(data, params));
    } else if (!error) {
      parts.push(el("p", { class: "intro" }, "Type to search. Results appear as you type."));
    }
    main.replaceChildren(...parts.filter(Boolean));
    document.getElementById("facets").replaceChildren(...facetList(data, params));
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const params = formParams();
      if (formKey(params) !== shownForm) show(params, "replace");
    }, DEBOUNCE_MS);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    show(formParams(), "push");
  });
  // Facets, pages, "did you mean", filter chips: the same search with other parameters.
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a[data-nav]");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    const params = new URL(link.href).searchParams;
    fillForm(params);
    show(params, "push");
    document.getElementById("main").focus({ preventScroll: true });
    window.scrollTo(0, 0);
  });
  window.addEventListener("popstate", () => {
    const params = new URLSearchParams(location.search);
    fillForm(params);
    show(params, null);
  });
  installKeys();

  // "/" focuses the search box; arrow keys move between the results' titles.
  function installKeys() {
    document.addEventListener("keydown", (event) => {
      const typing = /^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName);
      const searchBox = document.getElementById("q");
      if (event.key === "/" && !typing && searchBox) {
        event.preventDefault();
        searchBox.focus();
        searchBox.select();
      } else if (event.key === "Escape" && document.activeElement === searchBox) {
        searchBox.blur();
      } else if ((event.key === "ArrowDown" || event.key === "ArrowUp") && !event.altKey) {
        const titles = Array.from(document.querySelectorAll(".hit a.title, .related li > a"));
        const at = titles.indexOf(document.activeElement);
        if (!titles.length || (typing && document.activeElement !== searchBox) || (typing && event.key === "ArrowUp")) return;
        if (at === -1 && !typing && document.activeElement.tagName !== "BODY" && document.activeElement.id !== "main") return;
        event.preventDefault();
        const next = event.key === "ArrowDown" ? at + 1 : at - 1;
        if (next < 0) searchBox.focus();
        else titles[Math.min(next, titles.length - 1)].focus();
      }
    });
  }
})();
