import { BoxRenderable, type CliRenderer, TextRenderable } from "@opentui/core";
import { computeLayout } from "./layout.ts";
import { approvalsPane } from "./panes/approvals.ts";
import { auditPane } from "./panes/audit.ts";
import { footerLine } from "./panes/footer.ts";
import { headerLines } from "./panes/header.ts";
import { overlayContent } from "./panes/overlay.ts";
import { posturePane } from "./panes/posture.ts";
import { runsPane } from "./panes/runs.ts";
import { type PaneContent, type PaneContext, clip, wrap } from "./panes/text.ts";
import { xrayPane } from "./panes/xray.ts";
import type { ConsoleState } from "./state.ts";
import type { Line, Theme } from "./theme.ts";
import type { ViewId, ViewState } from "./view-state.ts";

const PANES: Record<ViewId, (ctx: PaneContext) => PaneContent> = {
  runs: runsPane,
  approvals: approvalsPane,
  audit: auditPane,
  posture: posturePane,
  xray: xrayPane,
};

/** A bordered pane: box plus the text inside it. */
interface PaneWidget {
  box: BoxRenderable;
  text: TextRenderable;
}

/**
 * The renderables of the console and the one function that draws the model into them.
 * Panes are plain text computed to fit their size, so resize is just another draw.
 */
export class Screen {
  private readonly frame: BoxRenderable;
  private readonly header: TextRenderable;
  private readonly main: PaneWidget;
  private readonly side: PaneWidget;
  private readonly footer: TextRenderable;
  private readonly overlay: PaneWidget;
  /** Rows of the focused pane at the last draw. */
  paneRows = 0;

  constructor(
    private readonly renderer: CliRenderer,
    private readonly theme: Theme,
  ) {
    const fg = theme.defaultFg;
    const bg = theme.defaultBg;
    this.frame = new BoxRenderable(renderer, {
      id: "aegis-frame",
      width: "100%",
      height: "100%",
      border: true,
      flexDirection: "column",
      backgroundColor: bg,
      titleColor: fg,
      ...theme.frame(false),
    });
    this.header = new TextRenderable(renderer, { id: "aegis-header", width: "100%", height: 2, flexShrink: 0, wrapMode: "none", fg, bg });
    const row = new BoxRenderable(renderer, { id: "aegis-main", flexGrow: 1, flexDirection: "row", backgroundColor: bg });
    this.main = this.pane("aegis-pane-main", {});
    this.side = this.pane("aegis-pane-side", { visible: false });
    this.footer = new TextRenderable(renderer, { id: "aegis-footer", width: "100%", height: 1, flexShrink: 0, wrapMode: "none", fg, bg });
    this.overlay = this.pane("aegis-overlay", { position: "absolute", zIndex: 100, visible: false, borderStyle: "double" });
    row.add(this.main.box);
    row.add(this.side.box);
    this.frame.add(this.header);
    this.frame.add(row);
    this.frame.add(this.footer);
    renderer.root.add(this.frame);
    renderer.root.add(this.overlay.box);
  }

  private pane(id: string, extra: { visible?: boolean; position?: "absolute"; zIndex?: number; borderStyle?: "double" }): PaneWidget {
    const { defaultFg: fg, defaultBg: bg } = this.theme;
    const box = new BoxRenderable(this.renderer, { id, border: true, height: "100%", flexShrink: 0, backgroundColor: bg, titleColor: fg, borderColor: fg, ...extra });
    const text = new TextRenderable(this.renderer, { id: `${id}-text`, wrapMode: "none", fg, bg });
    box.add(text);
    return { box, text };
  }

  /** Draws the whole model for the current terminal size. */
  draw(state: ConsoleState, view: ViewState, now: number): void {
    const { renderer, theme } = this;
    if (renderer.isDestroyed) return;
    const header = headerLines(state, view.view, Math.max(0, renderer.width - 2));
    const layout = computeLayout(renderer.width, renderer.height, header.length, view.view);
    const frame = theme.frame(state.lockdown.active);
    this.frame.borderColor = frame.borderColor;
    this.frame.borderStyle = frame.borderStyle;
    this.frame.title = state.lockdown.active ? " AegisClaw · LOCKDOWN " : " AegisClaw ";
    this.header.height = layout.headerRows;
    this.header.content = theme.styled(header);
    this.footer.content = theme.styled([footerLine(view, now, layout.innerWidth)]);

    const main = PANES[view.view]({ state, view, size: layout.main, now, focused: true });
    view.shownApproval = view.view === "approvals" ? main.shown : undefined;
    // Pin the selection to what is on screen, so a more urgent request arriving later does not
    // move it from under the operator's finger.
    if (main.shown) view.selectedApprovalId = main.shown.id;
    this.fill(this.main, main, layout.main.outerWidth, true);
    this.paneRows = layout.main.height;
    this.side.box.visible = layout.side !== undefined;
    if (layout.side) {
      const side = PANES[layout.side.view]({ state, view, size: layout.side, now, focused: false });
      this.fill(this.side, side, layout.side.outerWidth, false);
    }
    // Overlays cover the panes only: the envelope line, the lockdown banner and the footer stay visible.
    this.drawOverlay(state, view, now, 1 + layout.headerRows, layout.main.height + 2);
    renderer.requestRender();
  }

  private fill(widget: PaneWidget, content: PaneContent, outerWidth: number, focused: boolean): void {
    widget.box.width = outerWidth;
    widget.box.title = ` ${content.title} `;
    widget.box.borderColor = this.theme.colour(focused ? "accent" : "muted");
    widget.text.content = this.theme.styled(content.lines);
  }

  private drawOverlay(state: ConsoleState, view: ViewState, now: number, top: number, available: number): void {
    const { renderer, theme } = this;
    const box = this.overlay.box;
    if (!view.overlay) {
      box.visible = false;
      return;
    }
    const content = overlayContent(view.overlay, state, now);
    const width = Math.max(10, Math.min(renderer.width - 4, 100));
    const inner = width - 2;
    const lines: Line[] = content.lines.flatMap((line) => wrap(line, inner));
    const height = Math.max(3, Math.min(available, lines.length + 2));
    const rows = height - 2;
    // Clamped here, where the size is known, and written back so j/k never run away.
    view.overlayScroll = Math.max(0, Math.min(view.overlayScroll, lines.length - rows));
    const visible = lines.slice(view.overlayScroll, view.overlayScroll + rows).map((line) => clip(line, inner));
    box.visible = true;
    box.width = width;
    box.height = height;
    box.left = Math.max(0, Math.floor((renderer.width - width) / 2));
    box.top = top + Math.max(0, Math.floor((available - height) / 2));
    box.title = ` ${content.title} `;
    box.bottomTitle = view.overlayScroll + rows < lines.length ? " ↓ more: j " : undefined;
    box.borderColor = theme.colour(view.overlay.kind === "confirm" ? "warn" : "accent");
    this.overlay.text.content = theme.styled(visible);
  }
}
