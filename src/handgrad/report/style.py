"""The stylesheet of the HTML reports: reading column, side navigation, phone and print layouts."""

CSS = """
:root { --text: #1d1d1f; --muted: #5b5b63; --line: #dcdce2; --accent: #0b57d0;
        --soft: #f4f4f7; --nav-width: 17rem; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; scroll-padding-top: 3.2rem; }
body { margin: 0; color: var(--text); background: #fff;
       font: 16px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
a { color: var(--accent); }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .3rem .6rem; z-index: 3; }

.layout { display: grid; grid-template-columns: var(--nav-width) minmax(0, 1fr); }
nav.side { position: sticky; top: 0; align-self: start; height: 100vh; overflow-y: auto;
           padding: 1.2rem .8rem 2rem; border-right: 1px solid var(--line);
           background: #fafafc; font-size: .88rem; line-height: 1.35; }
nav ul { list-style: none; margin: 0; padding: 0; }
nav ul ul { padding-left: .85rem; margin: .1rem 0 .35rem; border-left: 1px solid var(--line); }
nav a { display: block; padding: .2rem .4rem; border-radius: 4px; color: var(--text);
        text-decoration: none; }
nav a:hover, nav a:focus { background: #e9e9ef; }
nav > ul > li > a { font-weight: 600; margin-top: .25rem; }
details.top-menu { display: none; }

main { min-width: 0; max-width: 64rem; padding: 1.5rem 2.5rem 5rem; }
main > * { max-width: 46rem; }
main > figure, main > .table-wrap, main > pre, main > math { max-width: 100%; }
h1, h2, h3, h4 { line-height: 1.25; margin: 2em 0 .6em; overflow-wrap: break-word; }
h1 { font-size: 2rem; margin-top: .5em; }
h2 { font-size: 1.55rem; border-bottom: 1px solid var(--line); padding-bottom: .25em; }
h3 { font-size: 1.2rem; }
p, li { overflow-wrap: break-word; }
code { font: .9em/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
       background: var(--soft); padding: .1em .3em; border-radius: 3px;
       overflow-wrap: anywhere; }
pre { background: #f6f6f9; padding: .8em 1em; overflow-x: auto; border-radius: 6px; }
pre code { background: none; padding: 0; overflow-wrap: normal; }
blockquote { margin: 1em 0; padding: .1em 1em; color: var(--muted);
             border-left: 4px solid var(--line); }

.table-wrap { overflow-x: auto; margin: 1.1em 0; border: 1px solid var(--line);
              border-radius: 6px; }
table { border-collapse: collapse; font-size: .92rem; font-variant-numeric: tabular-nums;
        min-width: 100%; }
th, td { max-width: 24rem; padding: .35em .75em; border-bottom: 1px solid var(--line);
         vertical-align: top; text-align: left; }
th { background: var(--soft); font-weight: 600; }
tbody tr:last-child td { border-bottom: none; }
tbody tr:nth-child(even) { background: #fbfbfd; }

figure { margin: 1.8em 0; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
/* a figure of several panels comes cut into its panels: side by side here, one per row on
   a narrow screen (below) */
.panel-row { display: flex; justify-content: center; margin: 0 auto; }
.panel-row img.panel { width: var(--share); min-width: 0; margin: 0; }
/* its headline (a suptitle), taken off the panels so no cut goes through it */
.panel-headline { display: block; margin: 0 auto; }
.panel-headline img.headline { width: var(--share); min-width: 0; margin: 0 auto; }
figcaption { color: var(--muted); font-size: .93rem; margin-top: .5em; max-width: 46rem; }
figure:target, h2:target, h3:target { animation: flash 1.5s ease-out; }
@keyframes flash { from { background: #fff4c2; } to { background: transparent; } }

math { font-size: 1.08em; }
/* a long inline formula scrolls in its own box on a narrow screen (MathML does not wrap) */
.math-wide { display: inline-block; max-width: 100%; overflow-x: auto; overflow-y: hidden;
             vertical-align: middle; }
/* a long formula scrolls sideways in its own box instead of widening the page */
math[display="block"] { display: block math; overflow-x: auto; overflow-y: hidden;
                        margin: .9em 0; padding: .2em 0; }
.math-source { color: #8a1f11; }

/* phones and narrow windows: the navigation becomes a menu at the top */
@media (max-width: 900px) {
  .layout { display: block; }
  nav.side { display: none; }
  details.top-menu { display: block; position: sticky; top: 0; z-index: 2;
                     background: #fff; border-bottom: 1px solid var(--line); }
  details.top-menu summary { cursor: pointer; padding: .6rem 1rem; font-weight: 600; }
  details.top-menu nav { max-height: 70vh; overflow-y: auto; padding: 0 1rem .8rem;
                         font-size: .95rem; }
  main { padding: .8rem 1rem 4rem; }
  /* on a phone a wide table keeps readable columns and scrolls in its box */
  table { width: max-content; }
  th, td { max-width: 13rem; }
  h1 { font-size: 1.6rem; }
  h2 { font-size: 1.35rem; }
  /* a figure of several panels: one panel per row, each as wide as the screen allows */
  .panel-row { display: block; }
  .panel-row img.panel { width: 100%; max-width: 40rem; margin: 0 auto .8em; }
  .panel-headline img.headline { width: auto; max-width: 100%; }
}

@media print {
  nav.side, details.top-menu, .skip { display: none; }
  .layout { display: block; }
  main { max-width: none; padding: 0; }
  main > * { max-width: none; }
  body { font-size: 11pt; }
  a { color: inherit; text-decoration: none; }
  h2 { break-before: page; }
  h2, h3 { break-after: avoid; }
  figure, .table-wrap, pre, tr { break-inside: avoid; }
  .table-wrap { overflow: visible; border: none; }
  .panel-row { display: flex; }
  .panel-row img.panel { width: var(--share); max-width: none; margin: 0; }
  .panel-headline img.headline { width: var(--share); max-width: none; }
  table { width: auto; min-width: 0; }
}
"""
