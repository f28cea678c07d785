// wattsup dashboard: filters that apply themselves, charts drawn from the JSON API with plotly.js, and
// the life-cycle calculator. Every text that reaches a chart is escaped first (plotly reads a few HTML
// tags in labels); every figure comes from /api/.
"use strict";

(() => {
  const COLORS = [
    "#1a7f37", "#0969da", "#bf3989", "#9a6700", "#8250df", "#cf222e",
    "#1b7c83", "#953800", "#57606a", "#4d2d00", "#6639ba", "#116329",
  ];
  const MODE_COLORS = { "task-specific": "#0969da", "zero-shot": "#bf3989", mixed: "#9a6700", unknown: "#57606a" };
  const CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };

  function esc(value) {
    return String(value)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&#39;");
  }

  function fmtKwh(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return "unknown";
    if (v === 0) return "0";
    const a = Math.abs(v);
    return a >= 1e-3 && a < 1e5 ? String(Number(v.toPrecision(4))) : v.toExponential(3);
  }

  function fmtKg(v) {
    if (v === null || v === undefined) return "unknown";
    const a = Math.abs(v);
    if (a >= 1000) return `${(v / 1000).toLocaleString("en", { maximumFractionDigits: 2 })} t`;
    if (a >= 1) return `${v.toLocaleString("en", { maximumFractionDigits: 2 })} kg`;
    return `${Number((v * 1000).toPrecision(3))} g`;
  }

  function fmtL(v) {
    if (v === null || v === undefined) return "unknown";
    const a = Math.abs(v);
    if (a >= 1000) return `${(v / 1000).toLocaleString("en", { maximumFractionDigits: 2 })} m³`;
    if (a >= 1) return `${v.toLocaleString("en", { maximumFractionDigits: 2 })} L`;
    return `${Number((v * 1000).toPrecision(3))} mL`;
  }

  function fmtBig(v) {
    // three significant digits with thousands separators: 495,000,000
    if (v === null || v === undefined) return "unknown";
    return Number(v.toPrecision(3)).toLocaleString("en");
  }

  function fmtParams(n) {
    if (n === null || n === undefined) return "unknown";
    for (const [size, suffix] of [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "k"]]) {
      if (n >= size) return `${Number((n / size).toPrecision(3))}${suffix}`;
    }
    return String(n);
  }

  async function getJSON(url, signal) {
    const response = await fetch(url, { headers: { Accept: "application/json" }, signal });
    let body = null;
    try {
      body = await response.json();
    } catch (err) {
      body = null;
    }
    if (!response.ok) {
      const message = body && body.message ? body.message : `HTTP ${response.status}`;
      throw new Error(message);
    }
    return body;
  }

  function layout(extra) {
    return Object.assign(
      {
        margin: { l: 80, r: 24, t: 16, b: 110 },
        font: { family: "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size: 13, color: "#1f2328" },
        paper_bgcolor: "rgba(0,0,0,0)",
        plot_bgcolor: "#ffffff",
        hoverlabel: { align: "left" },
        legend: { orientation: "h", y: -0.3 },
        height: 460,
      },
      extra,
    );
  }

  function message(div, text, kind) {
    div.replaceChildren();
    const p = document.createElement("p");
    p.className = kind === "error" ? "alert" : "muted";
    p.textContent = text;
    div.appendChild(p);
    div.dataset.state = kind === "error" ? "error" : "empty";
  }

  function draw(div, traces, lay) {
    div.replaceChildren();
    return window.Plotly.newPlot(div, traces, layout(lay), CONFIG).then(() => {
      div.dataset.state = "ready";
    });
  }

  // ------------------------------------------------------------------ charts

  function jitter(i) {
    // deterministic spread of the points of one task, in [-0.3, 0.3]
    const x = Math.sin((i + 1) * 12.9898) * 43758.5453;
    return ((x - Math.floor(x)) - 0.5) * 0.6;
  }

  const charts = {
    study(div, tasks) {
      if (!tasks.length) return message(div, "No runs with a known energy in this selection.");
      const byMode = {};
      tasks.forEach((t, ti) => {
        t.models.forEach((m, mi) => {
          const key = m.mode in MODE_COLORS ? m.mode : "unknown";
          const tr = byMode[key] || (byMode[key] = { x: [], y: [], customdata: [] });
          tr.x.push(ti + jitter(mi));
          tr.y.push(m.kwh);
          tr.customdata.push([
            esc(m.model), esc(t.task), fmtParams(m.n_params), esc(m.hardware || "unknown"), m.runs, m.datasets,
            fmtKwh(m.kwh),
          ]);
        });
      });
      const traces = Object.entries(byMode).map(([mode, tr]) => ({
        type: "scatter",
        mode: "markers",
        name: mode,
        x: tr.x,
        y: tr.y,
        customdata: tr.customdata,
        marker: { size: 9, color: MODE_COLORS[mode], opacity: 0.8, line: { width: 1, color: "#ffffff" } },
        hovertemplate:
          "<b>%{customdata[0]}</b><br>%{customdata[1]}<br>%{customdata[6]} kWh per 1,000 inferences" +
          "<br>parameters: %{customdata[2]}<br>hardware: %{customdata[3]}" +
          "<br>runs: %{customdata[4]} · datasets: %{customdata[5]}<extra></extra>",
      }));
      traces.push({
        type: "scatter",
        mode: "markers",
        name: "task mean",
        x: tasks.map((t, i) => i),
        y: tasks.map((t) => t.mean_kwh),
        marker: { symbol: "line-ew-open", size: 36, color: "#1f2328", line: { width: 2 } },
        customdata: tasks.map((t) => [esc(t.task), fmtKwh(t.mean_kwh), t.models.length]),
        hovertemplate: "<b>%{customdata[0]}</b><br>mean of %{customdata[2]} models: %{customdata[1]}<extra></extra>",
      });
      return draw(div, traces, {
        xaxis: {
          tickmode: "array",
          tickvals: tasks.map((t, i) => i),
          ticktext: tasks.map((t) => esc(t.task)),
          tickangle: -30,
          range: [-0.6, tasks.length - 0.4],
          zeroline: false,
        },
        yaxis: { type: "log", title: { text: esc(tasks[0].unit) }, gridcolor: "#eaeef2" },
      });
    },

    params(div, fits) {
      const withPoints = fits.filter((f) => f.points.length);
      if (!withPoints.length) return message(div, "No model in this selection has a known parameter count.");
      const traces = [];
      withPoints.forEach((f, i) => {
        const color = COLORS[i % COLORS.length];
        traces.push({
          type: "scatter",
          mode: "markers",
          name: esc(f.task),
          legendgroup: esc(f.task),
          x: f.points.map((p) => p.n_params),
          y: f.points.map((p) => p.kwh),
          customdata: f.points.map((p) => [esc(p.model), fmtParams(p.n_params), fmtKwh(p.kwh)]),
          marker: { size: 9, color, opacity: 0.85 },
          hovertemplate:
            `<b>%{customdata[0]}</b><br>${esc(f.task)}<br>parameters: %{customdata[1]}` +
            "<br>%{customdata[2]} kWh per 1,000 inferences<extra></extra>",
        });
        if (f.slope !== null && f.intercept !== null) {
          const xs = f.points.map((p) => p.n_params);
          const lo = Math.min(...xs);
          const hi = Math.max(...xs);
          const fit = (x) => Math.pow(10, f.intercept + f.slope * Math.log10(x));
          traces.push({
            type: "scatter",
            mode: "lines",
            name: `${esc(f.task)} fit`,
            legendgroup: esc(f.task),
            showlegend: false,
            x: [lo, hi],
            y: [fit(lo), fit(hi)],
            line: { color, dash: "dot", width: 2 },
            hovertemplate: `${esc(f.task)}: slope ${Number(f.slope.toPrecision(3))}` +
              (f.r2 !== null ? `, r² ${Number(f.r2.toPrecision(3))}` : "") + "<extra></extra>",
          });
        }
      });
      return draw(div, traces, {
        xaxis: { type: "log", title: { text: "parameters" }, gridcolor: "#eaeef2" },
        yaxis: { type: "log", title: { text: esc(fits[0].unit) }, gridcolor: "#eaeef2" },
        margin: { l: 80, r: 24, t: 16, b: 60 },
        legend: { orientation: "v", x: 1.02, y: 1 },
      });
    },

    modes(div, comparisons) {
      if (!comparisons.length) return message(div, "No task has runs in both modes in this selection.");
      const tasks = comparisons.map((c) => esc(c.task));
      const dots = (name, key, count, color, symbol) => ({
        type: "scatter",
        mode: "markers",
        name,
        x: tasks,
        y: comparisons.map((c) => c[key]),
        marker: { color, size: 14, symbol },
        customdata: comparisons.map((c) => [
          fmtKwh(c[key]), c[count], c.ratio === null ? "unknown" : Number(c.ratio.toPrecision(3)),
        ]),
        hovertemplate: `%{x}<br>${name}: %{customdata[0]}<br>models: %{customdata[1]}<br>` +
          "multi-purpose / task-specific: ×%{customdata[2]}<extra></extra>",
      });
      const links = {
        type: "scatter",
        mode: "lines",
        showlegend: false,
        hoverinfo: "skip",
        x: comparisons.flatMap((c) => [esc(c.task), esc(c.task), null]),
        y: comparisons.flatMap((c) => [c.task_specific_kwh, c.multi_purpose_kwh, null]),
        line: { color: "#8c959f", width: 2 },
      };
      const notes = comparisons
        .filter((c) => c.ratio !== null)
        .map((c) => ({
          x: esc(c.task),
          y: Math.log10(Math.max(c.task_specific_kwh, c.multi_purpose_kwh)),
          text: `×${Number(c.ratio.toPrecision(3))}`,
          showarrow: false,
          yshift: 22,
          font: { size: 14, color: "#1f2328" },
        }));
      return draw(div, [
        links,
        dots("task-specific", "task_specific_kwh", "task_specific_models", MODE_COLORS["task-specific"], "circle"),
        dots("multi-purpose", "multi_purpose_kwh", "multi_purpose_models", MODE_COLORS["zero-shot"], "diamond"),
      ], {
        annotations: notes,
        xaxis: { range: [-0.5, comparisons.length - 0.5] },
        yaxis: { type: "log", title: { text: esc(comparisons[0].unit) }, gridcolor: "#eaeef2" },
        margin: { l: 80, r: 24, t: 30, b: 90 },
      });
    },

    timeline(div, data) {
      if (!data.series.length) return message(div, data.note || "No timeline was kept for this run.");
      const traces = data.series.map((s, i) => ({
        type: "scatter",
        mode: "lines",
        name: `${esc(s.window)} · ${esc(s.component)}`,
        x: s.t_s,
        y: s.power_w,
        line: { color: COLORS[i % COLORS.length], width: 1.5, shape: "hv" },
        hovertemplate: `${esc(s.window)} · ${esc(s.component)}<br>%{x:.3f} s: %{y:.1f} W<extra></extra>`,
      }));
      return draw(div, traces, {
        xaxis: { title: { text: "seconds since the window started" }, gridcolor: "#eaeef2" },
        yaxis: { title: { text: "power (W)" }, gridcolor: "#eaeef2", rangemode: "tozero" },
        margin: { l: 70, r: 24, t: 16, b: 60 },
        legend: { orientation: "v", x: 1.02, y: 1 },
        height: 380,
      });
    },

    "compare-models"(div, data) {
      if (!data.rows.length) return message(div, "None of these models has runs in this selection.");
      const tasks = data.rows.map((r) => esc(r.task));
      const traces = data.models.map((model, i) => ({
        type: "scatter",
        mode: "markers",
        name: esc(model),
        x: tasks,
        y: data.rows.map((r) => (r.energies[i] ? r.energies[i].kwh : null)),
        marker: { color: COLORS[i % COLORS.length], size: 14 },
        customdata: data.rows.map((r) => [
          esc(model),
          r.energies[i] ? fmtKwh(r.energies[i].kwh) : "not run",
          r.ratio_to_first[i] === null ? "unknown" : Number(r.ratio_to_first[i].toPrecision(3)),
        ]),
        hovertemplate: "<b>%{customdata[0]}</b><br>%{x}: %{customdata[1]}<br>×%{customdata[2]} the first model<extra></extra>",
      }));
      return draw(div, traces, {
        scattermode: "group",
        scattergap: 0.5,
        xaxis: { range: [-0.5, data.rows.length - 0.5] },
        yaxis: { type: "log", title: { text: esc(data.unit) }, gridcolor: "#eaeef2" },
      });
    },

    "compare-runs"(div, data) {
      const names = ["whole window", ...data.phases.map((p) => p.phase)];
      const traces = data.runs.map((r, i) => ({
        type: "scatter",
        mode: "markers",
        name: `${esc(r.run_id.slice(0, 12))} · ${esc(r.model)}`,
        x: names.map(esc),
        y: [r.kwh, ...data.phases.map((p) => p.kwh[i])],
        marker: { color: COLORS[i % COLORS.length], size: 14 },
        hovertemplate: "%{x}: %{y:.4g}<extra>%{fullData.name}</extra>",
      }));
      return draw(div, traces, {
        scattermode: "group",
        scattergap: 0.5,
        xaxis: { range: [-0.5, names.length - 0.5] },
        yaxis: { type: "log", title: { text: esc(data.unit) }, gridcolor: "#eaeef2" },
      });
    },
  };

  async function loadChart(div) {
    const kind = div.dataset.kind;
    const src = div.dataset.src;
    if (!src || !(kind in charts)) return;
    div.dataset.state = "loading";
    try {
      const data = await getJSON(src);
      await charts[kind](div, data);
    } catch (err) {
      message(div, `Could not draw the chart: ${err.message}`, "error");
    }
  }

  // ------------------------------------------------------------------ filters

  function cleanSubmit(form) {
    // Leave empty fields out of the address: ?task=x rather than ?task=x&model=&phase=
    form.addEventListener("submit", () => {
      for (const el of form.elements) {
        if (el.name && !el.disabled && (el.value === "" || el.value === undefined) && el.type !== "submit") {
          el.disabled = true;
        }
      }
      window.setTimeout(() => {
        for (const el of form.elements) el.disabled = false;
      }, 0);
    });
  }

  function autoSubmit(form) {
    cleanSubmit(form);
    form.addEventListener("change", (ev) => {
      if (ev.target instanceof HTMLSelectElement && !ev.target.multiple) form.requestSubmit();
    });
  }

  // ------------------------------------------------------------------ life-cycle calculator

  function debounce(fn, ms) {
    let timer = null;
    return (...args) => {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => fn(...args), ms);
    };
  }

  function calculator(form) {
    const result = document.getElementById("lc-result");
    const errorBox = document.getElementById("lc-error");
    const chart = result.querySelector(".chart");
    let controller = null;
    let updates = 0;

    function query() {
      const params = new URLSearchParams();
      for (const [key, value] of new FormData(form)) {
        if (String(value).trim() !== "") params.append(key, String(value).trim());
      }
      return params.toString();
    }

    function cell(key, value) {
      const td = result.querySelector(`[data-cell="${key}"]`);
      if (td) td.textContent = fmtKg(value);
    }

    function sum(a, b, c = 0) {
      return a === null || b === null || c === null ? null : a + b + c;
    }

    function render(b) {
      const tOp = b.training_operational_kg;
      const tEm = b.training_embodied_kg;
      const iOp = b.inference_operational_kg;
      const iEm = b.inference_embodied_kg;
      const tCo = b.training_construction_kg ?? null;
      const iCo = b.inference_construction_kg ?? null;
      const hasTraining = tOp !== null;
      cell("training-operational", tOp);
      cell("training-embodied", tEm);
      cell("training-construction", tCo);
      cell("training-total", hasTraining ? sum(tOp, tEm, tCo) : null);
      cell("inference-operational", iOp);
      cell("inference-embodied", iEm);
      cell("inference-construction", iCo);
      cell("inference-total", sum(iOp, iEm, iCo));
      cell("all-operational", hasTraining ? tOp + iOp : iOp);
      cell("all-embodied", hasTraining ? sum(tEm, iEm) : iEm);
      cell("all-construction", hasTraining ? sum(tCo, iCo) : iCo);
      cell("all-total", b.total_kg);
      document.getElementById("lc-source").textContent =
        `${fmtKwh(b.kwh_per_1k)} kWh per 1,000 inferences (${b.kwh_source})` + (b.gpu ? ` · GPU ${b.gpu}` : "");
      const parity = document.getElementById("lc-parity");
      if (b.parity_inferences === null || b.parity_inferences === undefined) {
        parity.textContent = hasTraining
          ? "Cost parity: unknown."
          : "Give the training energy to see the cost-parity point (inferences whose energy equals training).";
      } else {
        const years = b.parity_days !== null && b.parity_days >= 365 ? ` (${fmtBig(b.parity_days / 365)} years)` : "";
        const days = b.parity_days === null
          ? ""
          : `, about ${fmtBig(b.parity_days)} days${years} at ${fmtBig(b.scenario.queries_per_day)} queries per day`;
        parity.textContent = `Cost parity: after ${fmtBig(b.parity_inferences)} inferences${days}, serving the model has used as much energy as training it.`;
      }
      const notes = document.getElementById("lc-notes");
      notes.replaceChildren();
      const fp = b.footprint || {};
      const a = fp.assumptions || {};
      const lines = [
        `grid: ${a.region || "?"} ${a.region_name ? `(${a.region_name})` : ""}, ${a.intensity_g_per_kwh} gCO2e/kWh — ${a.intensity_source}`,
        `PUE ${a.pue} — ${a.pue_source}`,
        `hardware lifetime ${a.lifetime_years} years (${a.lifetime_source}); utilisation ${a.utilization} (${a.utilization_source})`,
        `embodied per GPU: ${fmtKg(a.embodied_per_gpu_kg)} — ${a.gpu_embodied_source}`,
        `water: ${fmtL(fp.water_l)} (on site ${fmtL(fp.water_onsite_l)}: ${a.wue_source}; off site ${fmtL(fp.water_offsite_l)}: ${a.water_intensity_source})`,
        ...b.notes,
      ];
      for (const line of lines) {
        const li = document.createElement("li");
        li.textContent = line;
        notes.appendChild(li);
      }
      const phases = hasTraining ? ["Training", "Inference"] : ["Inference"];
      const op = hasTraining ? [tOp, iOp] : [iOp];
      const em = hasTraining ? [tEm, iEm] : [iEm];
      const co = hasTraining ? [tCo, iCo] : [iCo];
      return draw(chart, [
        { type: "bar", name: "operational", x: phases, y: op, marker: { color: "#0969da" }, hovertemplate: "%{x} operational: %{y:.4g} kg<extra></extra>" },
        { type: "bar", name: "embodied", x: phases, y: em, marker: { color: "#9a6700" }, hovertemplate: "%{x} embodied: %{y:.4g} kg<extra></extra>" },
        { type: "bar", name: "construction", x: phases, y: co, marker: { color: "#8250df" }, hovertemplate: "%{x} construction: %{y:.4g} kg<extra></extra>" },
      ], {
        barmode: "stack",
        yaxis: { title: { text: "kgCO2e" }, gridcolor: "#eaeef2" },
        margin: { l: 80, r: 24, t: 16, b: 60 },
        height: 340,
      });
    }

    async function update() {
      if (controller) controller.abort();
      controller = new AbortController();
      const qs = query();
      result.dataset.state = "loading";
      try {
        const data = await getJSON(`/api/lifecycle?${qs}`, controller.signal);
        errorBox.hidden = true;
        await render(data);
        updates += 1;
        result.dataset.updates = String(updates);
        result.dataset.state = "ready";
        window.history.replaceState(null, "", `/lifecycle?${qs}`);
      } catch (err) {
        if (err.name === "AbortError") return;
        errorBox.textContent = err.message;
        errorBox.hidden = false;
        result.dataset.state = "error";
      }
    }

    const taskSelect = form.elements.namedItem("task");
    const modelSelect = form.elements.namedItem("model");

    async function refreshModels() {
      // the model menu lists the chosen task's models
      const task = taskSelect.value;
      const facets = await getJSON(task ? `/api/facets?task=${encodeURIComponent(task)}` : "/api/facets");
      const keep = modelSelect.value;
      const blank = modelSelect.options[0];
      modelSelect.replaceChildren(blank);
      for (const name of facets.models) {
        const option = document.createElement("option");
        option.value = name;
        option.textContent = name;
        option.selected = name === keep;
        modelSelect.appendChild(option);
      }
      if (!facets.models.includes(keep)) modelSelect.value = "";
    }

    const later = debounce(update, 200);
    form.addEventListener("input", (ev) => {
      if (ev.target !== taskSelect) later();
    });
    form.addEventListener("change", (ev) => {
      if (ev.target === taskSelect) {
        refreshModels().then(update, (err) => {
          errorBox.textContent = err.message;
          errorBox.hidden = false;
        });
      } else {
        later();
      }
    });
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      update();
    });
    update();
  }

  // ------------------------------------------------------------------ start

  function start() {
    document.querySelectorAll("form[data-autosubmit]").forEach(autoSubmit);
    document.querySelectorAll("form.compare-form").forEach(cleanSubmit);
    const calc = document.getElementById("calc");
    if (calc) calculator(calc);
    if (window.Plotly) document.querySelectorAll(".chart[data-src]").forEach(loadChart);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
