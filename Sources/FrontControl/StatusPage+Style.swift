extension StatusPage {
    /// The page's inline stylesheet: system fonts only, state colours (up green, down red, drain amber,
    /// maint grey) shared by the server-rendered and the script-rendered markup.
    static let style = """

        :root{--up:#1a7f37;--down:#cf222e;--drain:#9a6700;--maint:#6e7781;--bg:#f6f8fa;--card:#fff;\
        --line:#d0d7de;--text:#1f2328;--muted:#656d76}
        *{box-sizing:border-box}
        body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;\
        background:var(--bg);color:var(--text)}
        header{display:flex;align-items:baseline;gap:16px;padding:14px 24px;background:#24292f;color:#fff}
        header h1{font-size:20px;margin:0;font-weight:600}
        .live{margin-left:auto;font-size:13px;color:#d0d7de}
        .live .dot{display:inline-block;width:9px;height:9px;border-radius:50%;background:#8c959f;margin-right:7px}
        .live.ok .dot{background:#2da44e}
        .live.stale .dot{background:#ff6a69}
        .live.stale{color:#ffb3b3}
        main{padding:16px 24px;max-width:1240px}
        .summary{display:flex;flex-wrap:wrap;gap:12px;margin-bottom:16px}
        .tile{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:10px 16px;min-width:170px}
        .tile .n{font-size:24px;font-weight:600;font-variant-numeric:tabular-nums}
        .tile .l{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
        .tile.warn{border-color:#d4a72c;background:#fff8c5}
        .tile.bad{border-color:var(--down);background:#ffebe9}
        .card{background:var(--card);border:1px solid var(--line);border-radius:6px;margin-bottom:16px;overflow:hidden}
        .card h2{font-size:15px;margin:0;padding:10px 14px;border-bottom:1px solid var(--line);display:flex;\
        gap:18px;align-items:baseline;background:#fff}
        .card h2 .sub{font-weight:normal;color:var(--muted);font-size:13px}
        table{width:100%;border-collapse:collapse;table-layout:fixed}
        #listeners th:nth-child(1){width:25%}
        #listeners th:nth-child(2){width:30%}
        #listeners th:nth-child(3){width:25%}
        .backend th:nth-child(1){width:11%}
        .backend th:nth-child(2){width:14%}
        .backend th:nth-child(3){width:14%}
        .backend th:nth-child(4){width:8%}
        .backend th:nth-child(5),.backend th:nth-child(6){width:7%}
        .backend th:nth-child(8){width:300px}
        td{overflow-wrap:anywhere}
        th,td{text-align:left;padding:7px 14px;border-bottom:1px solid #eaeef2;vertical-align:baseline}
        th{font-size:11px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.05em;\
        background:var(--bg)}
        tr:last-child td{border-bottom:none}
        .num{text-align:right;font-variant-numeric:tabular-nums}
        .mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:13px}
        .state{display:inline-block;min-width:58px;text-align:center;padding:1px 9px;border-radius:11px;\
        font-size:12px;font-weight:600;color:#fff}
        .state-up{background:var(--up)}
        .state-down{background:var(--down)}
        .state-drain{background:var(--drain)}
        .state-maint{background:var(--maint)}
        .state-other{background:#8250df}
        tr.active td:first-child{box-shadow:inset 4px 0 0 var(--up)}
        .tag{font-size:11px;border:1px solid var(--line);border-radius:4px;padding:0 6px;color:var(--muted);\
        white-space:nowrap}
        .tag-active{border-color:var(--up);color:var(--up)}
        .check-ok{color:var(--up);font-weight:600}
        .check-fail{color:var(--down);font-weight:600}
        .muted{color:var(--muted)}
        button{font:inherit;font-size:12px;padding:2px 9px;border:1px solid var(--line);border-radius:5px;\
        background:#f6f8fa;color:var(--text);cursor:pointer}
        button:hover:not(:disabled){background:#eaeef2;border-color:#afb8c1}
        button:disabled{opacity:.45;cursor:default}
        .actions{white-space:nowrap}
        .actions button{margin-right:4px}
        .act-evacuate,.act-maint,.act-close{color:#a40e26}
        .card h2 .act-rebalance{margin-left:auto}
        .moving{margin-top:4px;font-size:12px}
        .moving progress{width:90px;height:8px;vertical-align:middle}
        .token{display:flex;gap:8px;align-items:center;margin:12px 24px 0;padding:10px 14px;background:#fff8c5;\
        border:1px solid #d4a72c;border-radius:6px;max-width:1192px}
        .token[hidden],.notice[hidden]{display:none}
        .token input{font:inherit;padding:3px 8px;border:1px solid var(--line);border-radius:5px;min-width:260px}
        .notice{position:fixed;right:24px;bottom:24px;max-width:480px;padding:10px 14px;border-radius:6px;\
        background:#dafbe1;border:1px solid var(--up);box-shadow:0 3px 12px rgba(0,0,0,.15);z-index:2}
        .notice.bad{background:#ffebe9;border-color:var(--down)}
        .panels{padding:0 24px;max-width:1240px}
        .charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:4px 18px;padding:10px 14px}
        .chart{margin:0}
        .chart figcaption{font-weight:600;font-size:13px}
        .chart figcaption .now{font-weight:normal;color:var(--muted);margin-left:6px}
        .chart svg{width:100%;height:auto;display:block}
        .chart .grid{stroke:#eaeef2;stroke-width:1}
        .chart .axis{fill:var(--muted);font-size:11px}
        .legend{font-size:12px;display:flex;flex-wrap:wrap;gap:4px 14px}
        .legend .swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px}
        .bar{display:flex;flex-wrap:wrap;gap:8px 14px;align-items:center;padding:10px 14px;\
        border-bottom:1px solid var(--line)}
        .bar input{font:inherit;padding:3px 8px;border:1px solid var(--line);border-radius:5px;min-width:220px}
        #session-table th:nth-child(1){width:21%}
        #session-table th:nth-child(2){width:17%}
        #session-table th:nth-child(3){width:17%}
        #session-table th:nth-child(4),#session-table th:nth-child(5),#session-table th:nth-child(6){width:10%}
        .pager{display:flex;gap:12px;align-items:center;padding:8px 14px;border-top:1px solid #eaeef2}
        footer{padding:0 24px 24px;color:var(--muted);font-size:12px}
        footer a{color:inherit}

        """
}
