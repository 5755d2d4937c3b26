extension StatusPage {
    /// The charts part of the inline script: every 5 s it fetches `/status/history` and draws, into
    /// each chart's `<svg>` (SVG nodes made in the namespace of the server-rendered element), the last
    /// 15 minutes ending at the newest sample. Rates are the growth of a total between two consecutive
    /// samples over the seconds between them; a total that went down (series reset by a reload) counts
    /// as no growth. Refusal reasons that refused nothing in the window are left out of the legend.
    static let chartScript = #"""
          var SPAN = 900, PALETTE = ["#0969da", "#cf222e", "#9a6700", "#8250df", "#1a7f37", "#bc4c00", "#e85aad", "#6e7781"];
          function perSecond(samples, pick) {
            var out = [];
            for (var i = 1; i < samples.length; i++) {
              var dt = samples[i].t - samples[i - 1].t;
              if (dt > 0) out.push([samples[i].t, Math.max(0, pick(samples[i]) - pick(samples[i - 1])) / dt]);
            }
            return out;
          }
          function shown(v) {
            if (v >= 100 || v === Math.round(v)) return num(Math.round(v));
            return v.toFixed(v >= 10 ? 1 : 2);
          }
          function ceiling(v) {
            if (!(v > 0)) return 1;
            var step = Math.pow(10, Math.floor(Math.log(v) / Math.LN10)), m = v / step;
            return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * step;
          }
          function svgNode(svg, tag, attrs, text) {
            var node = document.createElementNS(svg.namespaceURI, tag);
            Object.keys(attrs).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
            if (text !== undefined) node.textContent = text;
            return node;
          }
          function draw(id, lines, end) {
            var fig = document.getElementById(id), svg = fig.querySelector("svg"), legend = fig.querySelector(".legend");
            while (svg.firstChild) svg.removeChild(svg.firstChild);
            while (legend.firstChild) legend.removeChild(legend.firstChild);
            legend.className = "legend";
            var W = 600, H = 150, L = 48, R = 10, T = 10, B = 22, high = 0, now = 0;
            lines.forEach(function (line) {
              line.points = line.points.filter(function (p) { return p[0] >= end - SPAN; });
              line.points.forEach(function (p) { high = Math.max(high, p[1]); });
            });
            var top = ceiling(high);
            function x(t) { return L + (W - L - R) * (1 - (end - t) / SPAN); }
            function y(v) { return T + (H - T - B) * (1 - v / top); }
            [0, 0.5, 1].forEach(function (f) {
              add(svg, svgNode(svg, "line", { x1: L, x2: W - R, y1: y(top * f), y2: y(top * f), "class": "grid" }),
                svgNode(svg, "text", { x: L - 6, y: y(top * f) + 4, "text-anchor": "end", "class": "axis" }, shown(top * f)));
            });
            [[SPAN, "\u221215 min", "start"], [600, "\u221210 min", "middle"], [300, "\u22125 min", "middle"], [0, "now", "end"]]
              .forEach(function (m) {
                add(svg, svgNode(svg, "text", { x: x(end - m[0]), y: H - 6, "text-anchor": m[2], "class": "axis" }, m[1]));
              });
            lines.forEach(function (line) {
              var points = line.points.map(function (p) { return x(p[0]).toFixed(1) + "," + y(p[1]).toFixed(1); });
              add(svg, svgNode(svg, "polyline", { points: points.join(" "), fill: "none", stroke: line.color,
                "stroke-width": 2, "stroke-linejoin": "round", "class": "series" }));
              var last = line.points.length ? line.points[line.points.length - 1][1] : 0;
              now += last;
              var swatch = el("span", "swatch");
              swatch.style.background = line.color;
              add(legend, add(el("span", "key"), swatch, document.createTextNode(line.name + " " + shown(last))));
            });
            fig.querySelector(".now").textContent = "now " + shown(now);
          }
          function drawHistory(h) {
            var samples = h.samples || [], end = samples.length ? samples[samples.length - 1].t : Date.now() / 1000;
            var seen = {};
            samples.forEach(function (s) { Object.keys(s.rejected || {}).forEach(function (k) { seen[k] = true; }); });
            var refusals = Object.keys(seen).sort().map(function (reason, i) {
              return { name: reason, color: PALETTE[i % PALETTE.length],
                points: perSecond(samples, function (s) { return (s.rejected || {})[reason] || 0; }) };
            }).filter(function (line) {
              return line.points.some(function (p) { return p[1] > 0 && p[0] >= end - SPAN; });
            });
            if (refusals.length === 0) {
              refusals = [{ name: "none refused", color: PALETTE[7],
                points: perSecond(samples, function () { return 0; }) }];
            }
            draw("chart-sessions", [{ name: "open", color: PALETTE[0],
              points: samples.map(function (s) { return [s.t, s.sessions]; }) }], end);
            draw("chart-connects", [{ name: "accepted", color: PALETTE[4],
              points: perSecond(samples, function (s) { return s.connects; }) }], end);
            draw("chart-refusals", refusals, end);
            draw("chart-moves", [{ name: "moved", color: PALETTE[3],
              points: perSecond(samples, function (s) { return s.moved; }) }], end);
            document.getElementById("charts-note").textContent = "a sample every " + (h.interval_seconds || 5) +
              " s \u00b7 " + samples.length + (samples.length === 1 ? " sample" : " samples") +
              (samples.length < 2 ? " (rates need two)" : "");
          }
          function chartTick() {
            fetch("/status/history", { cache: "no-store" })
              .then(function (res) { if (!res.ok) throw new Error("HTTP " + res.status); return res.json(); })
              .then(drawHistory, function (e) { document.getElementById("charts-note").textContent = "/status/history failed: " + e.message; })
              .then(function () { setTimeout(chartTick, 5000); });
          }
          chartTick();

        """#
}
