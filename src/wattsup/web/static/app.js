// wattsup dashboard: filters that apply themselves, charts that render the figures of /api/figures/ with
// plotly.js (each figure is defined once, on the server), and the life-cycle calculator.
"use strict";

(() => {
  const CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"] };

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

  function message(div, text, kind) {
    if (window.Plotly) window.Plotly.purge(div);
    div.replaceChildren();
    const p = document.createElement("p");
    p.className = kind === "error" ? "alert" : "muted";
    p.textContent = text;
    div.appendChild(p);
    delete div.dataset.drawn;
    div.dataset.state = kind === "error" ? "error" : "empty";
  }

  // ------------------------------------------------------------------ charts

  // Every chart is a figure of /api/figures/{name}: plotly's JSON, drawn as it comes, or the reason
  // there is nothing to draw.
  async function loadChart(div, src = div.dataset.src, signal = undefined) {
    if (!src) return;
    div.dataset.state = "loading";
    try {
      const answer = await getJSON(src, signal);
      if (!answer.figure) {
        message(div, answer.message || "Nothing to draw in this selection.");
        return;
      }
      if (div.dataset.drawn !== "yes") div.replaceChildren();
      await window.Plotly.react(div, answer.figure.data, answer.figure.layout, CONFIG);
      div.dataset.drawn = "yes";
      div.dataset.state = "ready";
    } catch (err) {
      if (err.name === "AbortError") throw err;
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
    }

    async function update() {
      if (controller) controller.abort();
      controller = new AbortController();
      const qs = query();
      result.dataset.state = "loading";
      try {
        const data = await getJSON(`/api/lifecycle?${qs}`, controller.signal);
        errorBox.hidden = true;
        render(data);
        await loadChart(chart, `/api/figures/lifecycle?${qs}`, controller.signal);
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
    if (window.Plotly) document.querySelectorAll(".chart[data-src]").forEach((div) => loadChart(div));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
