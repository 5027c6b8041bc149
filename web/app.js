// fluxaudit web UI: overview, device pages, findings list and downloads,
// read from the JSON API (docs/web.md). Plain JavaScript, no framework.
// Every value from the API is inserted with textContent, never as HTML.
'use strict';

(function () {
  var SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'];
  var CODES = ['FLOW_UNDECLARED', 'FLOW_INTERNET_UNDECLARED', 'FLOW_INBOUND_INTERNET',
    'FLOW_APP_MISMATCH', 'FLOW_OUTSIDE_WINDOW', 'FLOW_NOT_OBSERVED', 'SERVICE_UNDECLARED',
    'TLS_OBSOLETE_VERSION', 'TLS_WEAK_CIPHER', 'TLS_WEAK_CERTIFICATE',
    'ENCRYPTION_BELOW_DECLARED', 'CLEARTEXT_CREDENTIALS', 'DEFAULT_CREDENTIALS',
    'CLEARTEXT_HEALTH_DATA', 'REMOTE_ACCESS_TOOL', 'WIFI_WEAK_SECURITY', 'WIFI_NOT_ENTERPRISE',
    'WIFI_WEAK_EAP', 'INSECURE_PROTOCOL'];
  var POLL_MS = 3000;

  var state = { summary: null, serial: -1, view: 'overview', device: null, timer: null };

  // ---- DOM helpers (text only) -------------------------------------------

  function $(id) { return document.getElementById(id); }

  // el('td', {className: 'num'}, 'text', child...): children are nodes or text.
  function el(tag, props) {
    var node = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (key) {
        if (key === 'className') { node.className = props[key]; }
        else if (key === 'href' || key === 'title' || key === 'scope' || key === 'value') {
          node.setAttribute(key, props[key]);
        }
      });
    }
    for (var i = 2; i < arguments.length; i++) { append(node, arguments[i]); }
    return node;
  }

  function append(node, child) {
    if (child === null || child === undefined) { return; }
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function fill(tbody, rows) { clear(tbody); rows.forEach(function (r) { tbody.appendChild(r); }); }

  function text(value) { return value === null || value === undefined ? '' : String(value); }

  function number(value) {
    return typeof value === 'number' ? value.toLocaleString('en-US') : '–';
  }

  function bytes(value) {
    if (typeof value !== 'number') { return '–'; }
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    while (value >= 1024 && i < units.length - 1) { value /= 1024; i++; }
    return (i === 0 ? value : value.toFixed(1)) + ' ' + units[i];
  }

  function duration(seconds) {
    if (typeof seconds !== 'number' || seconds <= 0) { return '–'; }
    var s = Math.round(seconds);
    var d = Math.floor(s / 86400); s -= d * 86400;
    var h = Math.floor(s / 3600); s -= h * 3600;
    var m = Math.floor(s / 60); s -= m * 60;
    return (d ? d + ' d ' : '') + (d || h ? h + ' h ' : '') + (d || h || m ? m + ' min ' : '') +
      s + ' s';
  }

  function time(value) { return value ? String(value).replace('T', ' ').replace('Z', ' UTC') : '–'; }

  function badge(kind, label) { return el('span', { className: 'badge ' + kind }, label || kind); }

  function numCell(value) {
    return el('td', { className: value === 0 ? 'num zero' : 'num' }, number(value));
  }

  function card(label, value, warn) {
    return el('div', { className: warn ? 'card warn' : 'card' },
      el('span', { className: 'label' }, label), el('span', { className: 'value' }, value));
  }

  function deviceLink(name) {
    return el('a', { href: '#device/' + encodeURIComponent(name) }, name);
  }

  function flowText(flow) {
    if (!flow) { return ''; }
    var port = flow.port === null || flow.port === undefined ? '' : '/' + flow.port;
    return text(flow.client) + ' → ' + text(flow.server) + ' ' + text(flow.proto) + port +
      (flow.app ? ' (' + flow.app + ')' : '');
  }

  // ---- API ----------------------------------------------------------------

  function api(path) {
    return fetch(path, { credentials: 'same-origin', cache: 'no-store',
      headers: { Accept: 'application/json' } }).then(function (response) {
      if (response.status === 401) { window.location.assign('/login'); throw new Error('login'); }
      if (!response.ok) { throw new Error(path + ': HTTP ' + response.status); }
      return response.json();
    });
  }

  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (key) {
      if (params[key]) { parts.push(key + '=' + encodeURIComponent(params[key])); }
    });
    return parts.length ? '?' + parts.join('&') : '';
  }

  function setStatus(message, error) {
    var status = $('status');
    status.textContent = message;
    status.className = error ? 'status error' : 'status';
  }

  // ---- overview -----------------------------------------------------------

  function renderCapture(summary) {
    var c = summary.capture || {};
    var cards = [
      card('Packets', number(c.packets)), card('Bytes', bytes(c.bytes)),
      card('Dropped', number(c.dropped), c.dropped > 0),
      card('Malformed', number(c.malformed), c.malformed > 0),
      card('First frame', time(c.first_seen)), card('Last frame', time(c.last_seen)),
      card('Span', duration(c.span_seconds))
    ];
    if (summary.live) { cards.splice(2, 0, card('Rate', number(Math.round(c.rate_pps)) + ' pkt/s')); }
    var t = summary.totals || {};
    cards.push(card('Devices', number(t.devices)),
      card('With deviations', number(t.deviations), t.deviations > 0));
    var box = $('capture');
    clear(box);
    append(box, cards);
  }

  function coverageText(coverage) {
    if (!coverage) { return '–'; }
    return coverage.observed + ' / ' + coverage.declared;
  }

  function renderDevices(summary) {
    fill($('devices').tBodies[0], (summary.devices || []).map(function (d) {
      var counts = d.counts || {};
      var identity = [d.vendor, d.model, d.location].filter(Boolean).join(' · ');
      return el('tr', null,
        el('td', null, deviceLink(d.name)), el('td', null, identity),
        el('td', null, badge(d.verdict)),
        SEVERITIES.map(function (s) { return numCell(counts[s]); }),
        numCell(counts.waived || 0),
        el('td', { className: 'num' }, coverageText(d.coverage)));
    }));
  }

  function renderWifi(summary) {
    var wifi = summary.wifi;
    var section = $('wifi-section');
    section.hidden = !(wifi && wifi.networks && wifi.networks.length);
    if (section.hidden) { return; }
    fill($('wifi').tBodies[0], wifi.networks.map(function (n) {
      return el('tr', null, el('td', null, n.ssid), el('td', { className: 'code' }, n.bssid),
        el('td', { className: 'num' }, number(n.channel)),
        el('td', null, n.weak ? badge('high', n.security) : n.security), el('td', null, n.pmf),
        el('td', null, (n.inventory_devices || []).join(', ')),
        el('td', null, time(n.first_seen)), el('td', null, time(n.last_seen)));
    }));
    $('wifi-stations').textContent = number(wifi.stations) + ' 802.1X station(s) seen.';
  }

  function renderOverview(summary) {
    var site = summary.matrix && summary.matrix.site ? summary.matrix.site : 'Unnamed site';
    var sources = (summary.capture && summary.capture.sources) || [];
    $('overview-site').textContent = site + (sources.length ? ' — ' + sources.join(', ') : '');
    renderCapture(summary);
    renderDevices(summary);
    renderWifi(summary);
    var un = summary.unattributed ? summary.unattributed.flows : 0;
    $('unattributed').textContent = number(un) + ' flow(s) touched no inventory device.' +
      (summary.dropped_results ? ' ' + number(summary.dropped_results) +
        ' result(s) dropped past the audit cap.' : '');
  }

  // ---- findings rows (device page and findings list) ----------------------

  function evidenceList(evidence) {
    var keys = Object.keys(evidence || {});
    if (!keys.length) { return ''; }
    var dl = el('dl', { className: 'evidence' });
    keys.forEach(function (key) {
      dl.appendChild(el('dt', null, key));
      dl.appendChild(el('dd', null, evidence[key]));
    });
    return dl;
  }

  function findingCell(f) {
    return el('td', null, el('div', { className: 'code' }, f.code),
      el('div', null, f.title + (f.variant ? ' (' + f.variant + ')' : '')),
      el('div', { className: 'reqs' }, (f.requirements || []).join(', ')));
  }

  function statusCell(f) {
    if (f.status !== 'waived') { return el('td', null, 'open'); }
    return el('td', null, badge('waived'), el('div', { className: 'waiver' }, f.waiver));
  }

  function flowCell(f) {
    return el('td', null, el('div', null, flowText(f.flow)),
      el('div', { className: 'reqs' }, f.matrix_flow ? 'matrix flow ' + f.matrix_flow
        : 'no declared flow'));
  }

  function findingRow(f, withDevice) {
    var cells = [el('td', null, badge(f.severity))];
    if (withDevice) { cells.push(el('td', null, deviceLink(f.device))); }
    cells.push(findingCell(f), statusCell(f), flowCell(f), el('td', null, evidenceList(f.evidence)));
    if (!withDevice) {
      cells.push(el('td', null, time(f.first_seen), el('br'), number(f.connections) + ' conn.'));
    }
    return el('tr', { className: f.status === 'waived' ? 'waived' : '' }, cells);
  }

  // ---- device page --------------------------------------------------------

  function renderDevice(d) {
    $('device-title').textContent = d.name;
    var identity = [d.vendor, d.model, d.location].filter(Boolean).join(' · ');
    $('device-identity').textContent = (identity ? identity + ' — ' : '') +
      (d.addresses || []).join(', ');
    var counts = d.counts || {};
    var box = $('device-counts');
    clear(box);
    append(box, el('div', { className: 'card' }, el('span', { className: 'label' }, 'Verdict'),
      badge(d.verdict)));
    SEVERITIES.forEach(function (s) { append(box, card(s, number(counts[s]), counts[s] > 0)); });
    append(box, card('waived', number(counts.waived || 0)));
    var findings = d.findings || [];
    $('device-no-findings').hidden = findings.length > 0;
    fill($('device-findings').tBodies[0], findings.map(function (f) { return findingRow(f, false); }));
    var cov = d.coverage || { declared: 0, observed: 0, not_observed: [] };
    $('device-coverage').textContent = 'Coverage: ' + cov.observed + ' of ' + cov.declared +
      ' declared flow(s) observed' + (cov.not_observed && cov.not_observed.length
        ? '; not observed: ' + cov.not_observed.join(', ') : '') + '.';
    fill($('device-flows').tBodies[0], (d.flows || []).map(function (f) {
      return el('tr', null, el('td', null, f.client), el('td', null, f.server),
        el('td', null, f.proto), el('td', { className: 'num' }, text(f.port)),
        el('td', null, text(f.app)),
        el('td', null, f.matrix_flow ? f.matrix_flow : badge('undeclared')),
        numCell(f.connections), numCell(f.packets), el('td', { className: 'num' }, bytes(f.bytes)),
        el('td', null, time(f.first_seen)), el('td', null, time(f.last_seen)));
    }));
  }

  // ---- findings list ------------------------------------------------------

  function setOptions(select, values) {
    var current = select.value;
    while (select.options.length > 1) { select.remove(1); }
    values.forEach(function (v) { select.appendChild(el('option', { value: v }, v)); });
    // Keep the user's choice across live refreshes, even if it vanished.
    if (current && values.indexOf(current) < 0) {
      select.appendChild(el('option', { value: current }, current));
    }
    select.value = current;
  }

  function prepareFilters(summary) {
    var form = $('filters');
    if (form.severity.options.length === 1) { setOptions(form.severity, SEVERITIES); }
    if (form.code.options.length === 1) { setOptions(form.code, CODES); }
    setOptions(form.device, (summary.devices || []).map(function (d) { return d.name; }));
  }

  function loadFindings() {
    var form = $('filters');
    var params = { severity: form.severity.value, code: form.code.value,
      device: form.device.value, status: form.status.value };
    return api('/api/findings' + query(params)).then(function (answer) {
      fill($('findings').tBodies[0], answer.findings.map(function (f) { return findingRow(f, true); }));
      $('findings-count').textContent = number(answer.count) + ' finding(s)';
    });
  }

  // ---- views and live refresh ---------------------------------------------

  function showView(view) {
    ['overview', 'device', 'findings', 'reports'].forEach(function (name) {
      $('view-' + name).hidden = name !== view;
    });
    Array.prototype.forEach.call(document.querySelectorAll('nav a'), function (a) {
      a.className = a.getAttribute('data-view') === view ? 'active' : '';
    });
  }

  function parseHash() {
    var hash = window.location.hash.replace(/^#/, '');
    if (hash.indexOf('device/') === 0) {
      try { return { view: 'device', device: decodeURIComponent(hash.slice(7)) }; }
      catch (e) { return { view: 'overview', device: null }; }
    }
    if (hash === 'findings' || hash === 'reports') { return { view: hash, device: null }; }
    return { view: 'overview', device: null };
  }

  // Renders the current view from the latest summary; `keepScroll` on refresh.
  function render(keepScroll) {
    var x = window.scrollX;
    var y = window.scrollY;
    var summary = state.summary;
    var done;
    showView(state.view);
    if (state.view === 'device') {
      done = api('/api/devices/' + encodeURIComponent(state.device)).then(renderDevice);
    } else if (state.view === 'findings') {
      prepareFilters(summary);
      done = loadFindings();
    } else {
      if (state.view === 'overview') { renderOverview(summary); }
      done = Promise.resolve();
    }
    return done.then(function () {
      if (keepScroll) { window.scrollTo(x, y); }
    });
  }

  function describe(summary) {
    var when = new Date().toLocaleTimeString();
    return summary.live ? 'Live capture — updated ' + when : 'Stored campaign';
  }

  function refresh(keepScroll) {
    return api('/api/summary').then(function (summary) {
      $('logout').hidden = !summary.login_required;
      var changed = summary.serial !== state.serial;
      state.summary = summary;
      state.serial = summary.serial;
      setStatus(describe(summary), false);
      if (changed || !keepScroll) { return render(keepScroll); }
      return null;
    }).catch(function (error) {
      if (error.message !== 'login') { setStatus('Cannot reach the server — retrying', true); }
    }).then(function () {
      if (state.summary && state.summary.live && state.timer === null) {
        state.timer = window.setInterval(function () { refresh(true); }, POLL_MS);
      }
    });
  }

  function onHash() {
    var route = parseHash();
    state.view = route.view;
    state.device = route.device;
    window.scrollTo(0, 0);
    if (state.summary) {
      render(false).catch(function (error) { setStatus(error.message, true); });
    }
  }

  document.addEventListener('DOMContentLoaded', function () {
    var form = $('filters');
    form.addEventListener('change', function () { loadFindings().catch(function (e) {
      setStatus(e.message, true); }); });
    form.addEventListener('submit', function (event) { event.preventDefault(); });
    form.addEventListener('reset', function () {
      window.setTimeout(function () { loadFindings(); }, 0);
    });
    window.addEventListener('hashchange', onHash);
    var route = parseHash();
    state.view = route.view;
    state.device = route.device;
    refresh(false);
  });
})();
