/**
 * The only way the dashboard builds DOM: elements get text through `textContent` and
 * attributes through `setAttribute`, never markup. A string an agent controls (argv, output,
 * reasons) therefore always ends up as text, whatever it contains. The attribute names are
 * limited by type to ones that cannot run script or load anything (no `on*`, `src`, `href`,
 * `style`).
 */

type SafeAttribute = `data-${string}` | `aria-${string}` | "role" | "title" | "tabindex" | "type" | "datetime";

export interface Props {
  class?: string;
  text?: string;
  attrs?: Partial<Record<SafeAttribute, string>>;
}

export type Child = Node | string | undefined | null | false;

/** `document.createElement(tag)` with a class, text, safe attributes and children (strings become text nodes). */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.text !== undefined) node.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children) if (child !== undefined && child !== null && child !== false) node.append(child);
  return node;
}

/** The element with this id, checked to be of the expected kind (a missing skeleton element is a bug, so it throws). */
export function byId<T extends HTMLElement>(id: string, kind: { new (): T; prototype: T }): T {
  const node = document.getElementById(id);
  if (!(node instanceof kind)) throw new Error(`dashboard: #${id} is missing or not a ${kind.name}`);
  return node;
}

/** Sets a message line's text and tone. */
export function say(node: HTMLElement, text: string, tone: "" | "ok" | "error" = ""): void {
  node.textContent = text;
  node.classList.toggle("ok", tone === "ok");
  node.classList.toggle("error", tone === "error");
}

/** A local, readable time for an ISO timestamp (the ISO form stays in the title). */
export function timeOf(iso: string | undefined): HTMLElement {
  if (!iso) return h("span", { text: "—" });
  const date = new Date(iso);
  const text = Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString();
  return h("time", { text, attrs: { datetime: iso, title: iso } });
}

/** argv as one line a person can read and copy: arguments with spaces or quotes are single-quoted. */
export function shellLine(argv: readonly string[]): string {
  return argv.map((arg) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)).join(" ");
}
