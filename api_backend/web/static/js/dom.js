// Tiny DOM helpers: build elements without innerHTML, so text from the server is never parsed as HTML.

const SVG_NS = "http://www.w3.org/2000/svg";

function build(el, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.setAttribute("class", value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    // Through the CSSOM: a style="" attribute would be refused by the pages' Content-Security-Policy.
    else if (key === "style") Object.assign(el.style, value);
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** h("a", {href: "/", class: "x"}, "text", otherNode) */
export function h(tag, attrs = {}, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** The same for SVG elements. */
export function s(tag, attrs = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** A captioned table of `rows` (<tr> elements) under `headings`, in a box that scrolls sideways:
 * five columns do not fit a phone, and the page must not scroll sideways. */
export function dataTable(id, caption, headings, rows) {
  return h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      { class: "type-table", id },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, ...headings.map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", {}, ...rows),
    ),
  );
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

/** Show a message in a live region (screen readers hear it; sighted users see the region). */
export function announce(region, text) {
  region.textContent = "";
  // A fresh text node after clearing makes assistive technology announce repeated messages too.
  window.setTimeout(() => {
    region.textContent = text;
  }, 30);
}
