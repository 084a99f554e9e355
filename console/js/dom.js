// @ts-check
// Building the page from data without ever parsing data as HTML: text goes in as text nodes,
// so a wallet name or an audit reason can never inject markup or script.

/**
 * @typedef {string | number | Node | null | undefined | false} Child
 * @typedef {Record<string, string | number | boolean | null | undefined | EventListener>} Props
 */

/**
 * `h("button", {type: "button", onclick: f}, "Approve")`. Props starting with "on" are listeners;
 * `true`/`false` toggle boolean attributes; null/undefined are left out.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Props} [props]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/**
 * @param {Element} el
 * @param {(Child | Child[])[]} children
 */
function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
  }
}

/** Replaces an element's content. @param {Element} el @param {...(Child | Child[])} children */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/**
 * The element with this id, of the expected kind (a missing one is a bug in the page, said loudly).
 * @template {typeof HTMLElement} T
 * @param {string} id
 * @param {T} [kind]
 * @returns {InstanceType<T>}
 */
export function byId(id, kind) {
  const el = document.getElementById(id);
  const want = kind ?? HTMLElement;
  if (!(el instanceof want)) throw new Error(`page is missing #${id} (${want.name})`);
  return /** @type {InstanceType<T>} */ (el);
}

/** The trimmed value of a named form field ("" when absent). @param {HTMLFormElement} form @param {string} name */
export function field(form, name) {
  const value = new FormData(form).get(name);
  return typeof value === "string" ? value.trim() : "";
}
