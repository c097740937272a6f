// types.d.ts: declarations for what has none -- noVNC ships no types, and
// the xterm.js stylesheet is imported as text (esbuild's text loader).
declare module "@novnc/novnc" {
  export default class RFB extends EventTarget {
    constructor(target: HTMLElement, url: string, options?: Record<string, unknown>);
    scaleViewport: boolean;
    resizeSession: boolean;
    viewOnly: boolean;
    focus(): void;
    disconnect(): void;
    sendCtrlAltDel(): void;
  }
}
declare module "*.css" {
  const text: string;
  export default text;
}
