extension HTMLReporter {
    /// The page's stylesheet. Category colours live in the script (the SVG needs them too).
    static let style = #"""
        :root { --fg: #1d2430; --muted: #6b7480; --line: #dde1e6; --bg: #fff; --panel: #f6f7f9; --accent: #2f6fdd;
                --mono: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
        * { box-sizing: border-box; }
        [hidden] { display: none !important; }
        body { margin: 0; padding: 0 20px 40px; font: 13px/1.4 system-ui, "DejaVu Sans", Arial, sans-serif;
               color: var(--fg); background: var(--bg); }
        header { display: flex; align-items: baseline; gap: 14px; padding: 12px 0 8px; border-bottom: 1px solid var(--line); }
        h1 { font-size: 18px; margin: 0; }
        h2 { font-size: 16px; margin: 14px 0 4px; }
        h3 { font-size: 13px; margin: 16px 0 6px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
        code, .mono { font-family: var(--mono); font-size: 12px; }
        #command { overflow-wrap: anywhere; color: var(--muted); }
        .error { color: #a40000; background: #fff0f0; border: 1px solid #f3b9b9; padding: 8px 12px; margin: 8px 0; }
        .muted { color: var(--muted); }
        .note { color: var(--muted); font-size: 12px; margin: 4px 0 8px; max-width: 1100px; }
        nav { display: flex; flex-wrap: wrap; gap: 4px; margin-top: 10px; }
        nav button { font: inherit; padding: 5px 10px; border: 1px solid var(--line); background: var(--panel);
                     border-radius: 4px 4px 0 0; cursor: pointer; }
        nav button[aria-selected="true"] { background: var(--bg); border-bottom-color: var(--bg); font-weight: 600; }
        .summary { display: flex; flex-wrap: wrap; gap: 6px 18px; color: var(--muted); }
        .summary b { color: var(--fg); font-weight: 600; }
        .legend { display: flex; flex-wrap: wrap; gap: 4px 8px; margin: 6px 0; }
        .chip { display: inline-flex; align-items: center; gap: 6px; padding: 3px 8px; border: 1px solid var(--line);
                border-radius: 12px; background: var(--panel); }
        .chip small { color: var(--muted); }
        .sw { display: inline-block; width: 12px; height: 12px; border-radius: 3px; flex: none; }
        .mapgrid { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 14px; align-items: start; }
        .map { max-height: 640px; overflow-y: auto; border: 1px solid var(--line); border-radius: 4px; padding: 4px; }
        .band { display: flex; align-items: center; gap: 10px; margin: 1px 0; padding: 0 8px;
                border-radius: 3px; cursor: pointer; overflow: hidden; white-space: nowrap; }
        .chunk { content-visibility: auto; }
        .band span { text-shadow: 0 0 3px #fff, 0 0 2px #fff; }
        .band .addr { font-family: var(--mono); font-size: 11px; width: 14ch; flex: none; }
        .band .lab { flex: 1; overflow: hidden; text-overflow: ellipsis; }
        .band .sz { flex: none; font-size: 11px; color: #333; }
        .band:hover, .band.sel { outline: 2px solid var(--accent); outline-offset: -2px; }
        .gap { font-size: 10px; color: var(--muted); text-align: center; height: 12px; line-height: 12px; margin: 1px 0;
               background: repeating-linear-gradient(135deg, #fff 0 4px, #eef0f3 4px 8px); }
        .details { position: sticky; top: 8px; max-height: 640px; overflow: auto; border: 1px solid var(--line);
                   border-radius: 4px; padding: 8px 12px; background: var(--panel); }
        .details h4 { margin: 4px 0; font-family: var(--mono); font-size: 12px; overflow-wrap: anywhere; font-weight: 600; }
        .origin { border-top: 1px solid var(--line); padding: 6px 0; }
        .origin p { margin: 2px 0; overflow-wrap: anywhere; }
        ol.bt { margin: 4px 0; padding-left: 26px; font-family: var(--mono); font-size: 11.5px; }
        ol.bt li { overflow-wrap: anywhere; }
        ol.bt .where { color: var(--muted); }
        .timeline svg { width: 100%; max-width: 1200px; height: auto; display: block; font: 11px system-ui, sans-serif; }
        .timeline select { font: inherit; }
        table.sites { border-collapse: collapse; width: 100%; max-width: 1400px; }
        table.sites th, table.sites td { padding: 3px 8px; border-bottom: 1px solid var(--line); text-align: left;
                                         vertical-align: top; }
        table.sites th { cursor: pointer; user-select: none; background: var(--panel); position: sticky; top: 0; }
        table.sites th.num, table.sites td.num { text-align: right; white-space: nowrap; }
        table.sites th[aria-sort="descending"]::after { content: " \25BE"; }
        table.sites th[aria-sort="ascending"]::after { content: " \25B4"; }
        table.sites tr.row { cursor: pointer; }
        table.sites tr.row:hover { background: #f0f4fb; }
        table.sites td.site { overflow-wrap: anywhere; }
        table.sites tr.more td { background: #fbfbfc; }
        .controls { display: flex; flex-wrap: wrap; gap: 12px; align-items: center; margin: 4px 0 8px; }
        .controls input[type=search] { font: inherit; padding: 3px 6px; width: 260px; }
        button.link { font: inherit; border: 0; background: none; color: var(--accent); cursor: pointer; padding: 4px 0; }
        .tip { position: fixed; z-index: 10; pointer-events: none; max-width: 520px; background: #1d2430; color: #fff;
               padding: 6px 9px; border-radius: 4px; font-size: 12px; box-shadow: 0 2px 8px rgba(0,0,0,.25); }
        .tip div { overflow-wrap: anywhere; }
        @media (max-width: 900px) { .mapgrid { grid-template-columns: 1fr; } }

        """#
}
