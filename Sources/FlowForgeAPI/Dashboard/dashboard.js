// FlowForge dashboard: polls the run's API every 2 s and renders live runs, incidents and a drilldown.
// Plain DOM only: every string from the API goes in through textContent or setAttribute, never innerHTML.
// SPDX-License-Identifier: Apache-2.0
'use strict';
(() => {
  const POLL_MS = 2000;
  const PAGE = 50;
  const KEY_STORE = 'flowforge.apiKey'; // sessionStorage only: never the URL, never logged
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const EVIDENCE = ['last_lines', 'process_tree', 'cpu_series', 'output'];
  const HIDDEN_FIELDS = new Set([...EVIDENCE, 'reason', 'incident_id', 'cpu_percent', 'entropy', 'confidence']);
  const $ = (id) => document.getElementById(id);

  const state = {
    incidents: [], older: [], moreOlder: true, timelineLoaded: false,
    selected: new URLSearchParams(location.search).get('incident'),
    timelineKey: '', drillKey: '', drillShown: null,
    runs: [], allRuns: [], runRows: new Map(), action: null, askedKey: false, programsKey: '',
  };

  // ---- small helpers -------------------------------------------------------------------------------
  function el(tag, props, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') n.className = v;
      else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
      else n.setAttribute(k, v === true ? '' : String(v));
    }
    n.append(...kids.flat().filter((c) => c != null && c !== false).map((c) => (c instanceof Node ? c : String(c))));
    return n;
  }

  function svg(tag, attrs, ...kids) {
    const n = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
    n.append(...kids.filter((c) => c != null).map((c) => (c instanceof Node ? c : String(c))));
    return n;
  }

  async function api(path, options) {
    // A server started with --require-key-for-reads wants the key on reads too: send the one this tab keeps.
    const key = sessionStorage.getItem(KEY_STORE);
    const headers = { ...((options && options.headers) || {}) };
    if (key && !headers.Authorization) headers.Authorization = `Bearer ${key}`;
    const res = await fetch(path, { cache: 'no-store', credentials: 'same-origin', ...options, headers });
    const text = await res.text();
    let body = text;
    try { body = text ? JSON.parse(text) : null; } catch { /* not JSON: keep the text */ }
    return { ok: res.ok, status: res.status, body };
  }

  const errorText = (r) => (r.body && typeof r.body === 'object' && r.body.error) ? String(r.body.error)
    : (typeof r.body === 'string' && r.body ? r.body.slice(0, 300) : 'no details');
  const toNumber = (v) => (v == null || v === '' ? NaN : Number(v));
  const fmt = (v, digits) => (Number.isFinite(toNumber(v)) ? toNumber(v).toFixed(digits) : '—');
  const pad = (n, w = 2) => String(n).padStart(w, '0');

  function fmtTime(ts, withDate) {
    const d = new Date(ts);
    if (Number.isNaN(d.getTime())) return String(ts ?? '');
    const t = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
    return withDate ? `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${t}Z`
      : `${t}.${pad(d.getUTCMilliseconds(), 3)}Z`;
  }
  const timeEl = (ts, withDate) => el('time', { datetime: ts, title: ts }, fmtTime(ts, withDate));

  function actionBadge(action) {
    const a = String(action || '');
    if (!a) return el('span', { class: 'badge pending' }, 'no decision yet');
    if (a.startsWith('would_')) {
      return el('span', { class: 'badge shadow', title: 'Shadow mode: logged only, nothing was done' },
        el('span', { class: 'tag' }, 'shadow'), ` would ${a.slice(6).replace(/_/g, ' ')}`);
    }
    return el('span', { class: `badge action-${a.replace(/[^a-z_]/g, '')}` }, a.replace(/_/g, ' '));
  }

  // ---- header: health ------------------------------------------------------------------------------
  async function refreshHealth() {
    let ok = false;
    try { const r = await api('/healthz'); ok = r.ok && r.body && r.body.status === 'ok'; } catch { ok = false; }
    $('health').className = `health ${ok ? 'ok' : 'down'}`;
    $('health-text').textContent = ok ? 'API healthy' : 'API unreachable';
  }

  // ---- live runs -----------------------------------------------------------------------------------
  function parseMetrics(text) {
    const runs = new Map();
    for (const line of String(text).split('\n')) {
      const m = /^flowforge_worker_(cpu_percent|up)\{([^}]*)\}\s+(\S+)/.exec(line);
      const label = m && /(?:^|,)run="((?:[^"\\]|\\.)*)"/.exec(m[2]);
      if (!label) continue;
      const id = label[1].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
      const run = runs.get(id) || { run_id: id, live: false };
      if (m[1] === 'up') run.live = Number(m[3]) === 1; else run.cpu_percent = Number(m[3]);
      runs.set(id, run);
    }
    return [...runs.values()].filter((r) => r.live);
  }

  async function loadRuns() {
    const r = await api('/runs');
    if (r.ok && Array.isArray(r.body)) return { runs: r.body, source: '' };
    // Until /runs exists: the newest sample of this run as /metrics exposes it.
    const m = await api('/metrics');
    if (!m.ok) throw new Error(`/metrics: HTTP ${m.status}`);
    const runs = parseMetrics(m.body);
    for (const run of runs) {
      const inc = state.incidents.find((i) => i.run_id === run.run_id && !i.operator && i.worker);
      run.worker = inc ? inc.worker : '';
    }
    return { runs, source: 'CPU from /metrics (this API has no /runs)' };
  }

  function runRow(run) {
    const cells = { worker: el('strong'), run: el('code', { class: 'muted' }), pid: el('td', { class: 'num' }), cpu: el('td', { class: 'num' }),
      status: el('span', { class: 'notify-status muted', hidden: '' }),
      degraded: el('span', { class: 'badge degraded', hidden: '', title: 'The run lost its spawner: the worker runs on, but a restart becomes a stop and helpers are not respawned.' }, 'degraded') };
    const entry = { run, cells };
    const button = (kind, label) => el('button', { type: 'button', class: kind === 'kill' ? 'danger' : null, onclick: () => openAction(kind, entry.run) }, label);
    entry.row = el('tr', { class: 'run', 'data-run-id': run.run_id }, el('td', { class: 'who' }, cells.worker, cells.degraded, cells.run, cells.status), cells.pid, cells.cpu,
      el('td', { class: 'actions' }, button('restart', 'Restart'), button('kill', 'Kill')));
    return entry;
  }

  async function refreshRuns() {
    try {
      const { runs, source } = await loadRuns();
      state.allRuns = runs;
      state.runs = runs.filter((r) => r.live !== false);
      renderPrograms();
      for (const [id, entry] of state.runRows) {
        if (!state.runs.some((r) => r.run_id === id)) { entry.row.remove(); state.runRows.delete(id); }
      }
      for (const run of state.runs) {
        let entry = state.runRows.get(run.run_id);
        if (!entry) { entry = runRow(run); state.runRows.set(run.run_id, entry); $('live-runs').tBodies[0].append(entry.row); }
        entry.run = run;
        entry.cells.run.textContent = run.run_id;
        // The name the run was given (--name, or its command's basename); the command as typed on hover.
        entry.cells.worker.textContent = run.name || run.worker || '—';
        entry.cells.worker.title = run.command || '';
        entry.cells.degraded.hidden = run.degraded !== true;
        // What the worker last said with sd_notify STATUS= (and whether it said READY=1).
        const said = [run.notify_status, run.notify_stopping ? 'stopping' : null].filter(Boolean).join(' · ');
        entry.cells.status.textContent = said;
        entry.cells.status.hidden = !said;
        entry.cells.status.title = run.notify_ready ? 'the worker sent READY=1' : '';
        entry.cells.pid.textContent = run.pid ? String(run.pid) : '—';
        entry.cells.pid.title = run.generation ? `generation ${run.generation}` : '';
        entry.cells.cpu.textContent = Number.isFinite(toNumber(run.cpu_percent)) ? `${fmt(run.cpu_percent, 1)} %` : '—';
      }
      $('runs-status').textContent = state.runs.length ? source : 'No live runs.';
    } catch (e) {
      $('runs-status').textContent = `Cannot load live runs: ${e.message}`;
    }
  }

  // ---- programs: every run by name, live and finished ---------------------------------------------
  // A program is a name without its instance (`consumer` for `consumer:2`); runs recorded before names fall
  // back to the process name. Each instance lists its runs newest first, with their incidents.
  const programOf = (run) => String(run.name || run.worker || 'unnamed').replace(/:\d+$/, '');

  function renderPrograms() {
    const byProgram = new Map();
    for (const run of state.allRuns) {
      const p = programOf(run);
      if (!byProgram.has(p)) byProgram.set(p, []);
      byProgram.get(p).push(run);
    }
    const incidentsOf = (id) => allIncidents().filter((i) => i.run_id === id);
    const key = JSON.stringify([state.allRuns, allIncidents().map((i) => [i.id, i.run_id, i.outcome])]);
    if (key === state.programsKey) return;
    state.programsKey = key;
    const blocks = [...byProgram.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([program, runs]) => {
      const live = runs.filter((r) => r.live === true).length;
      const rows = runs.map((run) => {
        const incs = incidentsOf(run.run_id);
        const last = incs[0];
        return el('tr', { class: `program-run${run.live ? ' is-live' : ''}`, 'data-run-id': run.run_id },
          el('td', {}, el('strong', { title: run.command || '' }, run.name || run.worker || '—'), ' ', el('code', { class: 'muted' }, run.run_id)),
          el('td', {}, run.live ? el('span', { class: 'badge live' }, 'live') : el('span', { class: 'muted' }, 'finished ', run.last_seen ? timeEl(run.last_seen, true) : '')),
          el('td', { class: 'num' }, String(incs.length)),
          el('td', {}, last && last.outcome ? el('span', { class: `badge outcome-${last.outcome.replace(/[^a-z]/g, '')}` }, last.outcome) : ''));
      });
      return el('details', { class: 'program', 'data-program': program, open: live > 0 },
        el('summary', {}, el('strong', {}, program), el('span', { class: 'muted' }, ` ${live} live · ${runs.length} run${runs.length === 1 ? '' : 's'}`)),
        el('table', { class: 'program-runs' },
          el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Name and run'), el('th', { scope: 'col' }, 'State'),
            el('th', { scope: 'col', class: 'num' }, 'Incidents'), el('th', { scope: 'col' }, 'Last outcome'))),
          el('tbody', {}, ...rows)));
    });
    $('programs').replaceChildren(...blocks);
    $('programs-status').textContent = blocks.length ? '' : 'No runs recorded yet.';
  }

  // ---- actions -------------------------------------------------------------------------------------
  function openAction(kind, run) {
    state.action = { kind, run };
    const verb = kind === 'kill' ? 'Kill' : 'Restart';
    $('action-title').textContent = `${verb} worker`;
    const who = run.name || run.worker;
    $('action-target').textContent = `Run ${run.run_id}${who ? ` (${who})` : ''}${run.pid ? `, pid ${run.pid}` : ''}`;
    $('action-submit').textContent = verb;
    $('api-key').value = sessionStorage.getItem(KEY_STORE) || '';
    $('reason').value = '';
    $('action-error').textContent = '';
    $('action-dialog').showModal();
    ($('api-key').value ? $('reason') : $('api-key')).focus();
  }

  async function submitAction(event) {
    event.preventDefault();
    const { kind, run } = state.action || {};
    const key = $('api-key').value.trim();
    const reason = $('reason').value.trim();
    if (!kind || !key || !reason) { $('action-error').textContent = 'Both the API key and a reason are required.'; return; }
    sessionStorage.setItem(KEY_STORE, key);
    const body = { reason };
    if (state.runs.length > 1) body.run_id = run.run_id;
    $('action-submit').disabled = true;
    try {
      const r = await api(`/process/${kind}`, {
        method: 'POST', body: JSON.stringify(body),
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      });
      if (!r.ok) {
        if (r.status === 401) sessionStorage.removeItem(KEY_STORE);
        $('action-error').textContent = `HTTP ${r.status}: ${errorText(r)}`;
        return;
      }
      $('action-dialog').close();
      const b = r.body || {};
      $('action-result').textContent = `${kind} ${b.status || 'accepted'}: action ${b.action_id ?? '?'}, incident ${b.incident_id ?? '?'}${b.detail ? ` — ${b.detail}` : ''}`;
      if (b.incident_id) select(String(b.incident_id));
      refresh();
    } catch (e) {
      $('action-error').textContent = `Request failed: ${e.message}`;
    } finally {
      $('action-submit').disabled = false;
    }
  }

  // ---- timeline ------------------------------------------------------------------------------------
  async function refreshTimeline() {
    try {
      const r = await api(`/timeline?limit=${PAGE}`);
      if (r.status === 401) {
        // --require-key-for-reads: ask once per page load; the key stays in this tab's session storage only.
        if (!state.askedKey) {
          state.askedKey = true;
          const typed = (window.prompt('This FlowForge server needs the API key for reads. API key:') || '').trim();
          if (typed) { sessionStorage.setItem(KEY_STORE, typed); return refreshTimeline(); }
        }
        throw new Error('this server needs the API key for reads (reload the page to enter it)');
      }
      if (!r.ok || !Array.isArray(r.body)) throw new Error(`HTTP ${r.status}: ${errorText(r)}`);
      state.incidents = r.body;
      state.timelineLoaded = true;
      $('timeline-status').textContent = '';
    } catch (e) {
      $('timeline-status').textContent = `Cannot load incidents: ${e.message}`;
    }
    if (!state.selected && state.incidents.length) select(state.incidents[0].id, true);
    renderTimeline();
  }

  async function loadOlder() {
    const all = allIncidents();
    if (!all.length) return;
    const r = await api(`/timeline?limit=${PAGE}&before=${encodeURIComponent(all[all.length - 1].start)}`);
    if (!r.ok || !Array.isArray(r.body)) { $('timeline-status').textContent = `Cannot load older incidents: ${errorText(r)}`; return; }
    state.older.push(...r.body);
    state.moreOlder = r.body.length === PAGE;
    renderTimeline();
  }

  function allIncidents() {
    const seen = new Set();
    return [...state.incidents, ...state.older].filter((i) => !seen.has(i.id) && seen.add(i.id));
  }

  function renderTimeline() {
    const list = allIncidents();
    const key = JSON.stringify([list, state.selected, state.timelineLoaded]);
    $('older').hidden = !(state.moreOlder && list.length >= PAGE);
    if (key === state.timelineKey) return;
    state.timelineKey = key;
    const focused = document.activeElement && document.activeElement.closest('.incident');
    const focusID = focused && focused.dataset.incidentId;
    const item = (inc) => {
      const peak = inc.peak_scores || {};
      const selected = inc.id === state.selected;
      const shadow = String(inc.action || '').startsWith('would_') || inc.rollout_mode === 'shadow';
      return el('li', { class: `incident${selected ? ' selected' : ''}${shadow ? ' is-shadow' : ''}${inc.operator ? ' is-operator' : ''}`, 'data-incident-id': inc.id },
        el('button', { type: 'button', 'aria-pressed': String(selected), 'aria-controls': 'drilldown', onclick: () => select(inc.id) },
          el('span', { class: 'when' }, timeEl(inc.start, true)),
          el('span', { class: 'worker' }, inc.name || inc.worker || '—'),
          el('span', { class: 'badges' }, actionBadge(inc.action),
            inc.operator && el('span', { class: 'badge operator' }, 'operator'),
            inc.rollout_mode && el('span', { class: 'mode' }, `mode: ${inc.rollout_mode}`)),
          el('span', { class: 'scores' }, [peak.cpu_percent != null && `peak CPU ${fmt(peak.cpu_percent, 0)} %`,
            peak.confidence != null && `confidence ${fmt(peak.confidence, 2)}`].filter(Boolean).join(' · ')),
          el('span', { class: 'reason' }, inc.reason || '')));
    };
    // A run's consecutive incidents are one group, in the order they happened: a crash loop reads as its
    // restarts, generation by generation, up to the stop.
    const groups = [];
    for (const inc of list) {
      const g = groups[groups.length - 1];
      if (g && g[0].run_id === inc.run_id) g.push(inc); else groups.push([inc]);
    }
    const items = groups.map((g) => {
      if (g.length === 1) return item(g[0]);
      const ordered = [...g].sort((a, b) => (a.generation ?? 0) - (b.generation ?? 0) || String(a.start).localeCompare(String(b.start)));
      const newest = g[0];
      const gens = ordered.map((i) => i.generation).filter((x) => x != null);
      return el('li', { class: 'incident-group', 'data-run-id': newest.run_id },
        el('p', { class: 'group-head' }, el('strong', {}, newest.name || newest.worker || '—'), ' ',
          el('span', { class: 'muted' }, `${g.length} incidents in run `), el('code', { class: 'muted' }, newest.run_id),
          gens.length ? el('span', { class: 'muted' }, ` · generations ${gens[0]}–${gens[gens.length - 1]}`) : null,
          newest.outcome ? el('span', { class: `badge outcome-${newest.outcome.replace(/[^a-z]/g, '')}` }, newest.outcome) : null),
        el('ol', { class: 'group' }, ...ordered.map(item)));
    });
    $('timeline').replaceChildren(...items);
    if (!list.length && state.timelineLoaded) $('timeline').append(el('li', { class: 'empty muted' }, 'No incidents recorded yet.'));
    if (focusID) { const b = $('timeline').querySelector(`[data-incident-id="${CSS.escape(focusID)}"] button`); if (b) b.focus(); }
  }

  function select(id, initial) {
    if (state.selected === id) return;
    state.selected = id;
    if (!initial) history.replaceState(null, '', `?incident=${encodeURIComponent(id)}`);
    renderTimeline();
    if (!initial) refreshDrilldown(); // the initial pick is loaded by the refresh that made it
  }

  // ---- drilldown -----------------------------------------------------------------------------------
  async function refreshDrilldown() {
    const id = state.selected;
    if (!id) return;
    let r;
    try { r = await api(`/timeline?incident_id=${encodeURIComponent(id)}`); } catch (e) { r = { ok: false, status: 0, body: e.message }; }
    if (id !== state.selected) return; // the selection moved on while this was loading
    if (r.ok && Array.isArray(r.body)) {
      const key = JSON.stringify(r.body);
      if (state.drillShown !== id || key !== state.drillKey) renderDrilldown(id, r.body);
      state.drillShown = id;
      state.drillKey = key;
      $('drill-status').textContent = '';
    } else if (r.status !== 404 && state.drillShown === id) {
      // A failed refresh keeps what is shown, with a note (the API may be restarting).
      $('drill-status').textContent = `Cannot refresh: ${r.status ? `HTTP ${r.status}: ` : ''}${errorText(r)}`;
    } else {
      state.drillShown = null;
      renderDrillError(id, r.status ? `HTTP ${r.status}: ${errorText(r)}` : `Request failed: ${errorText(r)}`);
    }
  }

  function renderDrillError(id, message) {
    const d = $('drilldown');
    d.dataset.incidentId = id;
    d.replaceChildren(el('h2', { id: 'drill-h' }, 'Incident ', el('code', {}, id)), el('p', { class: 'error' }, message));
  }

  function renderDrilldown(id, events) {
    const inc = allIncidents().find((i) => i.id === id) || {};
    const own = events.filter((e) => e.kind !== 'sample');
    const samples = events.filter((e) => e.kind === 'sample');
    const opened = own.find((e) => e.kind === 'incident.opened');
    const t0 = own.length ? Date.parse(own[0].ts) : NaN;
    const marks = own.filter((e) => ['incident.opened', 'worker.exited', 'worker.started'].includes(e.kind))
      .map((e) => ({ t: Date.parse(e.ts), label: e.kind.replace('incident.', '') }));
    const d = $('drilldown');
    d.dataset.incidentId = id;
    d.replaceChildren(
      el('h2', { id: 'drill-h' }, 'Incident ', el('code', {}, id)),
      el('p', { id: 'drill-status', class: 'error', role: 'status' }),
      el('p', { class: 'meta' }, inc.name || inc.worker ? el('span', { class: 'worker' }, inc.name || inc.worker) : null, actionBadge(inc.action),
        inc.operator && el('span', { class: 'badge operator' }, 'operator'),
        inc.rollout_mode && el('span', { class: 'mode' }, `mode: ${inc.rollout_mode}`),
        inc.start && el('span', { class: 'muted' }, timeEl(inc.start, true), ' → ', timeEl(inc.end || inc.start))),
      inc.reason ? el('p', { class: 'reason' }, inc.reason) : null,
      el('div', { class: 'charts' },
        chart('chart-cpu', 'CPU %', samples, 'cpu_percent', 100, 1, marks),
        chart('chart-entropy', 'Entropy (bits/char)', samples, 'entropy', 1, 2, marks),
        chart('chart-confidence', 'Confidence', samples, 'confidence', 1, 2, marks),
        chart('chart-memory', 'Memory (MiB)', samples.map(withMemoryMiB), 'memory_mib', 1, 1, marks)),
      el('h3', {}, 'Event chain'),
      el('ol', { class: 'events' }, own.map((e) => eventRow(e, t0))),
      el('p', { class: 'muted' }, `${samples.length} sample${samples.length === 1 ? '' : 's'} of generation ${own.length ? own[0].generation : '?'} in the charts above (from 30 s before the incident opened).`),
      el('h3', {}, 'Evidence'),
      opened ? evidence(opened.fields || {}) : el('p', { class: 'muted' }, 'No detector evidence: this incident did not come from the detector.'));
  }

  function eventRow(e, t0) {
    const f = e.fields || {};
    const s = e.scores || {};
    const offset = Date.parse(e.ts) - t0;
    const scores = [['CPU', s.cpu_percent, 1, ' %'], ['entropy', s.entropy, 2, ''], ['confidence', s.confidence, 2, '']]
      .filter(([, v]) => v != null).map(([n, v, dg, u]) => `${n} ${fmt(v, dg)}${u}`).join(' · ');
    const extra = Object.entries(f).filter(([k]) => !HIDDEN_FIELDS.has(k)).map(([k, v]) => el('span', { class: 'field' }, `${k}=${v}`));
    return el('li', { class: `event kind-${e.kind.replace(/[^a-z]/g, '-')}`, 'data-kind': e.kind, 'data-seq': e.seq },
      el('span', { class: 'when' }, timeEl(e.ts), Number.isFinite(offset) ? el('span', { class: 'offset muted' }, ` +${(offset / 1000).toFixed(2)} s`) : null),
      el('span', { class: 'kind' }, e.kind),
      el('span', { class: 'detail' },
        e.reason ? el('span', { class: 'reason' }, e.reason) : null,
        scores ? el('span', { class: 'scores' }, scores) : null,
        extra.length ? el('span', { class: 'fields' }, extra) : null));
  }

  function evidence(f) {
    const block = (title, text, id) => [el('h4', {}, title), el('pre', { class: 'evidence', id }, text ? String(text) : '(none)')];
    return el('div', { class: 'evidence-blocks' },
      block('Last lines', f.last_lines, 'evidence-lines'),
      block('Process tree', f.process_tree, 'evidence-tree'),
      f.cpu_series ? block('CPU series (%)', String(f.cpu_series).split(',').join(' '), 'evidence-cpu') : null);
  }

  // A sample with `memory_mib`: its memory_bytes (rss_bytes in samples recorded before there was one) in MiB.
  function withMemoryMiB(e) {
    const f = e.fields || {};
    const bytes = toNumber(f.memory_bytes != null ? f.memory_bytes : f.rss_bytes);
    return { ...e, fields: { ...f, memory_mib: Number.isFinite(bytes) ? bytes / 1048576 : null } };
  }

  // One line chart as inline SVG: time on x, the samples' field on y (0 to at least yMin), with markers.
  function chart(id, title, samples, field, yMin, digits, marks) {
    const W = 640, H = 96, L = 40, R = 10, T = 10, B = 18;
    const pts = samples.map((e) => [Date.parse(e.ts), toNumber((e.fields || {})[field])]).filter(([t, v]) => Number.isFinite(t) && Number.isFinite(v));
    const values = pts.map(([, v]) => v);
    const times = pts.map(([t]) => t).concat(marks.map((m) => m.t).filter(Number.isFinite));
    const peak = values.length ? Math.max(...values) : 0;
    const step = yMin >= 100 ? 50 : 1;
    const top = field === 'confidence' ? 1 : Math.max(yMin, Math.ceil(peak / step) * step);
    const t0 = times.length ? Math.min(...times) : 0, span = Math.max((times.length ? Math.max(...times) : 0) - t0, 1);
    const x = (t) => (L + ((t - t0) / span) * (W - L - R)).toFixed(1);
    const y = (v) => (T + (1 - Math.min(v, top) / top) * (H - T - B)).toFixed(1);
    const label = `${title}: ${values.length} samples${values.length ? `, last ${fmt(values[values.length - 1], digits)}, peak ${fmt(peak, digits)}, lowest ${fmt(Math.min(...values), digits)}` : ''}`;
    const s = svg('svg', { id, class: `chart chart-${field}`, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label }, svg('title', {}, label));
    for (const v of [0, top / 2, top]) {
      s.append(svg('line', { class: 'grid', x1: L, x2: W - R, y1: y(v), y2: y(v) }),
        svg('text', { class: 'axis', x: L - 4, y: Number(y(v)) + 3, 'text-anchor': 'end' }, fmt(v, top < 10 ? 1 : 0)));
    }
    if (times.length) {
      s.append(svg('text', { class: 'axis', x: L, y: H - 6 }, fmtTime(new Date(t0).toISOString()).slice(0, 8)),
        svg('text', { class: 'axis', x: W - R, y: H - 6, 'text-anchor': 'end' }, fmtTime(new Date(t0 + span).toISOString()).slice(0, 8)));
    }
    let lastLabel = -Infinity;
    for (const m of marks.filter((mk) => Number.isFinite(mk.t))) {
      const mx = Number(x(m.t)), left = mx > W / 2; // label on the side with room, unless it would overlap
      s.append(svg('line', { class: `mark mark-${m.label.replace('.', '-')}`, x1: mx, x2: mx, y1: T, y2: H - B }));
      if (Math.abs(mx - lastLabel) < 90) continue;
      lastLabel = mx;
      s.append(svg('text', { class: 'mark-label', x: mx + (left ? -3 : 3), y: T + 8, 'text-anchor': left ? 'end' : 'start' }, m.label));
    }
    if (pts.length === 1) pts.push([pts[0][0] + 1, pts[0][1]]);
    if (pts.length) s.append(svg('polyline', { class: 'line', points: pts.map(([t, v]) => `${x(t)},${y(v)}`).join(' ') }));
    else s.append(svg('text', { class: 'axis', x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'no samples'));
    return el('figure', { class: 'chart-box' }, el('figcaption', {}, title, values.length ? el('span', { class: 'muted' }, ` peak ${fmt(peak, digits)}`) : null), s);
  }

  // ---- polling -------------------------------------------------------------------------------------
  let running = null;
  function refresh() {
    if (running) return running;
    running = (async () => {
      await Promise.all([refreshHealth(), refreshTimeline()]);
      await Promise.all([refreshRuns(), refreshDrilldown()]);
      $('updated').textContent = `updated ${fmtTime(new Date().toISOString()).slice(0, 8)} UTC`;
    })().finally(() => { running = null; });
    return running;
  }

  async function loop() {
    try { await refresh(); } catch (e) { $('timeline-status').textContent = `Refresh failed: ${e.message}`; }
    setTimeout(loop, POLL_MS);
  }

  $('action-form').addEventListener('submit', submitAction);
  $('action-cancel').addEventListener('click', () => $('action-dialog').close());
  $('forget-key').addEventListener('click', () => { sessionStorage.removeItem(KEY_STORE); $('api-key').value = ''; $('api-key').focus(); });
  $('older').addEventListener('click', () => loadOlder().catch((e) => { $('timeline-status').textContent = `Cannot load older incidents: ${e.message}`; }));
  document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });
  loop();
})();
