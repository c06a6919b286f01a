import type { ViewId } from "./view-state.ts";

/** Inner size of a bordered pane: what its text may fill. */
export interface PaneSize {
  width: number;
  height: number;
}

/** Where everything goes for one terminal size. */
export interface Layout {
  /** Inside the screen frame. */
  innerWidth: number;
  headerRows: number;
  footerRows: number;
  /** The focused view's pane. */
  main: PaneSize & { outerWidth: number };
  /** The second pane on wide terminals; undefined at 80 columns. */
  side: (PaneSize & { outerWidth: number; view: ViewId }) | undefined;
}

/** From this many columns a second pane is shown beside the focused one. */
export const SPLIT_COLUMNS = 140;

/**
 * Computes the layout from the terminal size and the header's row count (envelope, tabs and,
 * during lockdown, the banner). Rows: frame border, header, the pane with its border, one
 * footer line. Sizes never go negative, so a tiny terminal draws less instead of failing.
 */
export function computeLayout(width: number, height: number, headerRows: number, view: ViewId): Layout {
  const innerWidth = Math.max(0, width - 2);
  const footerRows = 1;
  const paneOuterHeight = Math.max(0, height - 2 - headerRows - footerRows);
  const paneHeight = Math.max(0, paneOuterHeight - 2);
  if (innerWidth < SPLIT_COLUMNS) {
    return { innerWidth, headerRows, footerRows, main: { outerWidth: innerWidth, width: Math.max(0, innerWidth - 2), height: paneHeight }, side: undefined };
  }
  // Pending approvals are the time-critical thing: on a wide screen they stay in view.
  const sideView: ViewId = view === "approvals" ? "runs" : "approvals";
  const mainOuter = Math.ceil(innerWidth / 2);
  const sideOuter = innerWidth - mainOuter;
  return {
    innerWidth,
    headerRows,
    footerRows,
    main: { outerWidth: mainOuter, width: mainOuter - 2, height: paneHeight },
    side: { outerWidth: sideOuter, width: sideOuter - 2, height: paneHeight, view: sideView },
  };
}
