// The live page's styles travel with its lazily loaded chunk (the app's first load carries none of them). They are
// adopted as a constructed stylesheet: the app's Content-Security-Policy (style-src 'self') refuses a <style>
// element. Scoped under .live-page; colours keep at least 4.5:1 contrast on their backgrounds.

const CSS = `
.live-page [hidden] { display: none !important; }
.live-page { max-width: 46rem; margin: 0 auto; padding: 1rem; color: #1f2937; line-height: 1.5; }
.live-page h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
.live-page h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
.live-intro { margin: 0 0 1rem; color: #374151; }
.live-stage { position: relative; width: 100%; aspect-ratio: 4 / 3; background: #111827; border-radius: .5rem; overflow: hidden; }
.live-stage video, .live-stage canvas { position: absolute; inset: 0; width: 100%; height: 100%; object-fit: contain; transform: scaleX(-1); }
.live-status { min-height: 1.5em; margin: .75rem 0 0; font-weight: 600; }
.live-error { margin: .5rem 0 0; color: #b91c1c; }
.live-error:empty { display: none; }
.live-error a { color: inherit; font-weight: 600; }
.live-controls { display: flex; flex-wrap: wrap; gap: .5rem; margin: .75rem 0; }
.live-controls button { font: inherit; min-height: 2.75rem; padding: .5rem 1rem; border-radius: .375rem; border: 2px solid #1d4ed8;
  background: #1d4ed8; color: #fff; cursor: pointer; }
.live-controls button[data-action="pause"], .live-controls button[data-action="end"] { background: #fff; color: #1d4ed8; }
.live-controls button:disabled { background: #e5e7eb; border-color: #d1d5db; color: #4b5563; cursor: not-allowed; }
.live-controls button:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.live-readout, .live-summary dl { display: grid; grid-template-columns: repeat(auto-fit, minmax(9.5rem, 1fr)); gap: .5rem; margin: 0; }
.live-readout div, .live-summary dl div { background: #f3f4f6; border-radius: .375rem; padding: .5rem .75rem; }
.live-page dt { font-size: .85rem; color: #374151; }
.live-page dd { margin: 0; font-size: 1.15rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.live-page dd[data-label="Good"] { color: #166534; }
.live-page dd[data-label="Mild"] { color: #92400e; }
.live-page dd[data-label="Bad"] { color: #b91c1c; }
.live-summary h2:focus { outline: none; }
.live-table-wrap { overflow-x: auto; }
.live-table-wrap:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.live-history table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
.live-history th, .live-history td { text-align: left; padding: .375rem .4rem; border-bottom: 1px solid #d1d5db; white-space: nowrap; }
.live-history thead th { font-size: .85rem; color: #374151; }
.live-history tbody th { font-weight: normal; }
`;

let sheet: CSSStyleSheet | null = null;

export function addLiveStyles(): void {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
  }
  if (!document.adoptedStyleSheets.includes(sheet)) document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
}
