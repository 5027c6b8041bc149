// Real-browser test of the fluxaudit web UI (issue 5, docs/web.md).
//
// Headless Debian Chromium (/usr/bin/chromium, never a downloaded browser)
// driven by playwright-core, against `fluxaudit serve` on a campaign that
// tests/browser/run.sh builds from pcaps/reference.pcap and pcaps/tls10.pcap.
// The expected numbers are read from the JSON API, so the test checks that
// the page shows what the API says, not a copy of today's values.
//
// Environment (set by run.sh):
//   FA_URL        base URL of a server without login, e.g. http://127.0.0.1:4321
//   FA_LOGIN_URL  base URL of a server started with --accounts (optional)
//   FA_USER, FA_PASSWORD  the account of that file (the password is never printed)
//   FA_ARTEFACTS  directory for screenshots and the PDF
//   FA_CHROMIUM   browser binary (default /usr/bin/chromium)
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const BASE = process.env.FA_URL;
const LOGIN_BASE = process.env.FA_LOGIN_URL;
const ARTEFACTS = process.env.FA_ARTEFACTS || 'browser-artefacts';
const CHROMIUM = process.env.FA_CHROMIUM || '/usr/bin/chromium';
const DEVICE = 'infusion-gw-1';
const VIEWPORT = { width: 1366, height: 768 };
const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'];
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

if (!BASE) { throw new Error('FA_URL is not set (run tests/browser/run.sh)'); }
mkdirSync(ARTEFACTS, { recursive: true });

// The UI formats counts with toLocaleString('en-US') (web/app.js number()).
const fmt = (n) => n.toLocaleString('en-US');

function launch() {
  // playwright gives every launch a fresh temporary user-data-dir (under
  // TMPDIR, which run.sh points into its own temporary directory).
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// Records what must never happen on a page: console errors, uncaught
// exceptions, failed requests and HTTP errors. `allowed(url, status)` lets a
// scenario accept a deliberate one.
function watch(page, allowed = () => false) {
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') { problems.push(`console error: ${msg.text()}`); }
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => {
    if (!allowed(req.url(), 0)) {
      problems.push(`request failed: ${req.method()} ${req.url()} ${req.failure()?.errorText}`);
    }
  });
  page.on('response', (res) => {
    if (res.status() >= 400 && !allowed(res.url(), res.status())) {
      problems.push(`HTTP ${res.status()}: ${res.request().method()} ${res.url()}`);
    }
  });
  return problems;
}

async function shot(page, name, fullPage = true) {
  await page.screenshot({ path: join(ARTEFACTS, name), fullPage });
}

async function apiJson(context, path) {
  const res = await context.request.get(BASE + path);
  assert.equal(res.status(), 200, `${path}: HTTP ${res.status()}`);
  return res.json();
}

async function assertFitsWidth(page, where) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= VIEWPORT.width, `${where}: page is ${width} px wide, over ${VIEWPORT.width}`);
}

// Text of every cell of a table body, row by row.
function tableCells(page, selector) {
  return page.$$eval(`${selector} tbody tr`, (rows) =>
    rows.map((r) => Array.from(r.cells, (c) => c.textContent.trim())));
}

// Waits until the findings list shows `count` rows and the matching count text.
async function waitForFindings(page, count) {
  await page.waitForFunction(([n, label]) => {
    const rows = document.querySelectorAll('#findings tbody tr').length;
    return rows === n && document.getElementById('findings-count').textContent === label;
  }, [count, `${fmt(count)} finding(s)`]);
}

describe('stored campaign (no login)', () => {
  let browser;
  let context;
  let page;
  let problems;
  let summary;
  let device;

  before(async () => {
    browser = await launch();
    context = await browser.newContext({ viewport: VIEWPORT });
    context.setDefaultTimeout(15000);
    page = await context.newPage();
    problems = watch(page);
    summary = await apiJson(context, '/api/summary');
    device = await apiJson(context, `/api/devices/${DEVICE}`);
  });

  after(async () => {
    await browser?.close();
  });

  test('the page is served with the Content-Security-Policy and security headers', async () => {
    const response = await page.goto(BASE + '/');
    assert.equal(response.status(), 200);
    const headers = response.headers();
    assert.equal(headers['content-security-policy'], CSP);
    assert.equal(headers['x-content-type-options'], 'nosniff');
    assert.equal(headers['x-frame-options'], 'DENY');
    assert.equal(headers['cache-control'], 'no-store');
    assert.match(headers['content-type'], /^text\/html/);
  });

  test('the overview shows the API numbers', async () => {
    await page.goto(BASE + '/#overview');
    await page.waitForSelector('#devices tbody tr');
    await page.waitForFunction(() => document.getElementById('status').textContent ===
      'Stored campaign');
    const apiDevices = (await apiJson(context, '/api/devices')).devices;
    assert.equal(summary.live, false);
    assert.equal(apiDevices.length, summary.totals.devices);
    assert.ok(apiDevices.some((d) => d.name === DEVICE), `${DEVICE} in /api/devices`);

    const cards = Object.fromEntries(await page.$$eval('#capture .card', (list) =>
      list.map((c) => [c.querySelector('.label').textContent,
        c.querySelector('.value').textContent])));
    assert.equal(cards.Packets, fmt(summary.capture.packets));
    assert.equal(cards.Devices, fmt(summary.totals.devices));
    assert.equal(cards['With deviations'], fmt(summary.totals.deviations));
    assert.equal(cards.Dropped, fmt(summary.capture.dropped));
    assert.equal(cards.Malformed, fmt(summary.capture.malformed));
    assert.equal(await page.textContent('#overview-site'),
      `${summary.matrix.site} — ${summary.capture.sources.join(', ')}`);
    // Both replays were merged into the campaign.
    assert.deepEqual(summary.capture.sources, ['pcaps/reference.pcap', 'pcaps/tls10.pcap']);

    // One row per device, in API order: name, identity, verdict, open findings
    // per severity, waived, coverage.
    const rows = await tableCells(page, '#devices');
    assert.equal(rows.length, apiDevices.length);
    apiDevices.forEach((d, i) => {
      const row = rows[i];
      assert.equal(row[0], d.name);
      assert.equal(row[1], [d.vendor, d.model, d.location].filter(Boolean).join(' · '));
      assert.equal(row[2], d.verdict);
      SEVERITIES.forEach((s, k) => assert.equal(row[3 + k], fmt(d.counts[s]), `${d.name} ${s}`));
      assert.equal(row[8], fmt(d.counts.waived));
      assert.equal(row[9], `${d.coverage.observed} / ${d.coverage.declared}`);
    });
    const gw = apiDevices.find((d) => d.name === DEVICE);
    assert.equal(gw.verdict, 'deviations');
    const badgeClass = await page.getAttribute(
      `#devices tbody tr:has(a[href="#device/${DEVICE}"]) .badge`, 'class');
    assert.equal(badgeClass, 'badge deviations');
    await assertFitsWidth(page, 'overview');
    await shot(page, 'overview.png');
  });

  test('the device page lists findings, requirements, waivers and flows', async () => {
    await page.click(`#devices a[href="#device/${DEVICE}"]`);
    await page.waitForFunction((name) =>
      document.getElementById('device-title').textContent === name &&
      document.querySelectorAll('#device-findings tbody tr').length > 0, DEVICE);
    assert.equal(new URL(page.url()).hash, `#device/${DEVICE}`);
    assert.equal(await page.isVisible('#view-overview'), false);

    // Findings: one row per finding of the report, in report order.
    const rows = await page.$$eval('#device-findings tbody tr', (list) => list.map((r) => ({
      severity: r.cells[0].textContent.trim(),
      code: r.cells[1].querySelector('.code').textContent,
      reqs: r.cells[1].querySelector('.reqs').textContent,
      status: r.cells[2].textContent.trim(),
      badge: r.cells[2].querySelector('.badge')?.textContent ?? null,
      waiver: r.cells[2].querySelector('.waiver')?.textContent ?? null,
      waivedRow: r.classList.contains('waived'),
      flow: r.cells[3].textContent,
    })));
    assert.equal(rows.length, device.findings.length);
    device.findings.forEach((f, i) => {
      assert.equal(rows[i].severity, f.severity);
      assert.equal(rows[i].code, f.code);
      assert.equal(rows[i].reqs, f.requirements.join(', '));
    });

    const tls = rows.find((r) => r.code === 'TLS_OBSOLETE_VERSION');
    assert.ok(tls, 'TLS_OBSOLETE_VERSION is listed');
    assert.ok(tls.reqs.split(', ').includes('CLAUSIER-2025 O-8.1'), tls.reqs);
    assert.equal(tls.status, 'open');
    assert.match(tls.flow, /matrix flow F02/);

    const waivedApi = device.findings.filter((f) => f.status === 'waived');
    assert.ok(waivedApi.length > 0, 'the reference campaign has a waived finding');
    const waivedRows = rows.filter((r) => r.waivedRow);
    assert.equal(waivedRows.length, waivedApi.length);
    waivedApi.forEach((f, i) => {
      assert.equal(waivedRows[i].code, f.code);
      assert.equal(waivedRows[i].badge, 'waived');
      assert.ok(f.waiver && f.waiver.length > 0, `${f.code} has a justification`);
      assert.equal(waivedRows[i].waiver, f.waiver);
    });
    // A waived row is shown greyed.
    const waivedColor = await page.$eval('#device-findings tr.waived td',
      (td) => getComputedStyle(td).color);
    const openColor = await page.$eval('#device-findings tr:not(.waived) td',
      (td) => getComputedStyle(td).color);
    assert.notEqual(waivedColor, openColor);

    // Observed flows next to the matrix: the flow id, or an "undeclared" badge.
    const flows = await page.$$eval('#device-flows tbody tr', (list) => list.map((r) => ({
      client: r.cells[0].textContent, server: r.cells[1].textContent,
      port: r.cells[3].textContent, matrix: r.cells[5].textContent,
      undeclared: r.cells[5].querySelector('.badge.undeclared') !== null,
    })));
    assert.equal(flows.length, device.flows.length);
    device.flows.forEach((f, i) => {
      assert.equal(flows[i].client, f.client);
      assert.equal(flows[i].server, f.server);
      assert.equal(flows[i].port, String(f.port));
      assert.equal(flows[i].matrix, f.matrix_flow ?? 'undeclared');
      assert.equal(flows[i].undeclared, f.matrix_flow === null);
    });
    assert.ok(flows.some((f) => f.undeclared), 'an undeclared flow is shown');
    assert.ok(flows.some((f) => f.matrix === 'F02'), 'matrix flow F02 is shown');
    const coverage = await page.textContent('#device-coverage');
    assert.match(coverage, new RegExp(`^Coverage: ${device.coverage.observed} of ` +
      `${device.coverage.declared} declared flow\\(s\\) observed`));
    for (const id of device.coverage.not_observed) { assert.ok(coverage.includes(id), id); }

    await assertFitsWidth(page, 'device page');
    await shot(page, 'device.png');
  });

  test('the device page prints (print media, PDF)', async () => {
    await page.emulateMedia({ media: 'print' });
    try {
      assert.equal(await page.isVisible('.top nav'), false, 'navigation hidden in print');
      assert.equal(await page.isVisible('#view-device'), true);
      assert.equal(await page.isVisible('#view-overview'), false);
      const headerGroup = await page.$eval('#device-findings thead',
        (el) => getComputedStyle(el).display);
      assert.equal(headerGroup, 'table-header-group');
      await shot(page, 'device-print.png');
      const pdf = await page.pdf({ path: join(ARTEFACTS, 'device.pdf'), preferCSSPageSize: true,
        printBackground: true });
      assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
      assert.ok(pdf.length > 10000, `PDF is ${pdf.length} bytes`);
    } finally {
      await page.emulateMedia({ media: 'screen' });
    }
  });

  test('the findings list filters by severity and by code', async () => {
    await page.click('nav a[data-view="findings"]');
    const all = await apiJson(context, '/api/findings');
    await waitForFindings(page, all.count);
    assert.ok(all.count > 0);
    // The device filter offers the campaign's devices.
    const devices = await page.$$eval('#filters select[name=device] option', (o) =>
      o.map((x) => x.value));
    assert.deepEqual(devices, ['', ...summary.devices.map((d) => d.name)]);

    const critical = await apiJson(context, '/api/findings?severity=critical');
    assert.ok(critical.count > 0, 'the reference campaign has critical findings');
    assert.ok(critical.count < all.count);
    await page.selectOption('#filters select[name=severity]', 'critical');
    await waitForFindings(page, critical.count);
    const severities = await page.$$eval('#findings tbody tr',
      (rows) => rows.map((r) => r.cells[0].textContent.trim()));
    assert.equal(severities.length, critical.count);
    assert.ok(severities.every((s) => s === 'critical'), severities.join(','));
    const codes = await page.$$eval('#findings tbody tr .code', (c) => c.map((x) => x.textContent));
    assert.deepEqual(codes, critical.findings.map((f) => f.code));
    await assertFitsWidth(page, 'findings list');
    await shot(page, 'findings-critical.png');

    await page.selectOption('#filters select[name=severity]', '');
    const code = 'TLS_OBSOLETE_VERSION';
    const byCode = await apiJson(context, `/api/findings?code=${code}`);
    assert.ok(byCode.count > 0);
    await page.selectOption('#filters select[name=code]', code);
    await waitForFindings(page, byCode.count);
    const shown = await page.$$eval('#findings tbody tr', (rows) => rows.map((r) => ({
      device: r.cells[1].textContent, code: r.cells[2].querySelector('.code').textContent })));
    assert.ok(shown.every((r) => r.code === code && r.device === DEVICE), JSON.stringify(shown));
    await shot(page, 'findings-code.png');

    // Status "waived" together with no other filter, then "Clear" resets all.
    await page.selectOption('#filters select[name=code]', '');
    const waived = await apiJson(context, '/api/findings?status=waived');
    await page.selectOption('#filters select[name=status]', 'waived');
    await waitForFindings(page, waived.count);
    assert.equal(await page.$$eval('#findings tbody tr.waived', (r) => r.length), waived.count);
    await page.click('#filters button[type=reset]');
    await waitForFindings(page, all.count);
  });

  test('the reports page links every download; the CSV answers as text/csv', async () => {
    await page.click('nav a[data-view="reports"]');
    await page.waitForSelector('#view-reports:not([hidden])');
    const links = await page.$$eval('#view-reports a[download]', (a) =>
      a.map((x) => x.getAttribute('href')));
    assert.deepEqual(links, ['/api/report.html', '/api/report.json', '/api/report.csv',
      '/api/report.syslog']);
    const csv = await context.request.get(BASE + '/api/report.csv');
    assert.equal(csv.status(), 200);
    assert.match(csv.headers()['content-type'], /^text\/csv/);
    assert.match(csv.headers()['content-disposition'],
      /attachment; filename="fluxaudit-report\.csv"/);
    assert.ok((await csv.text()).includes('TLS_OBSOLETE_VERSION'));
    for (const [ext, type] of [['html', /^text\/html/], ['json', /^application\/json/],
      ['syslog', /^text\/plain/]]) {
      const res = await context.request.get(`${BASE}/api/report.${ext}`);
      assert.equal(res.status(), 200, ext);
      assert.match(res.headers()['content-type'], type, ext);
    }
    // A download click really saves a file.
    const [download] = await Promise.all([page.waitForEvent('download'),
      page.click('#view-reports a[href="/api/report.csv"]')]);
    assert.equal(download.suggestedFilename(), 'fluxaudit-report.csv');
    await download.saveAs(join(ARTEFACTS, 'fluxaudit-report.csv'));
    await shot(page, 'reports.png');
  });

  test('no console error, page error or failed request', () => {
    assert.deepEqual(problems, []);
  });
});

describe('login required (--accounts)', { skip: LOGIN_BASE ? false : 'FA_LOGIN_URL not set' },
  () => {
    let browser;
    let context;
    let page;
    let problems;

    before(async () => {
      browser = await launch();
      context = await browser.newContext({ viewport: VIEWPORT });
      context.setDefaultTimeout(15000);
      page = await context.newPage();
      problems = watch(page);
    });

    after(async () => {
      await browser?.close();
    });

    test('the API answers 401 without a session; health needs none', async () => {
      const res = await context.request.get(LOGIN_BASE + '/api/summary');
      assert.equal(res.status(), 401);
      const health = await context.request.get(LOGIN_BASE + '/api/health');
      assert.equal(health.status(), 200);
    });

    test('the page redirects to the login form; a wrong password is refused', async () => {
      const response = await page.goto(LOGIN_BASE + '/');
      assert.equal(new URL(page.url()).pathname, '/login');
      assert.equal(response.status(), 200);
      assert.equal(response.headers()['content-security-policy'], CSP);
      assert.equal(await page.isVisible('#refused'), false);
      await page.fill('input[name=user]', process.env.FA_USER);
      await page.fill('input[name=password]', 'not-the-password');
      await Promise.all([page.waitForURL(/\/login\?error=refused$/),
        page.click('button[type=submit]')]);
      assert.equal(await page.isVisible('#refused'), true);
      await assertFitsWidth(page, 'login page');
      await shot(page, 'login-refused.png');
    });

    test('logging in through the form opens the overview', async () => {
      await page.fill('input[name=user]', process.env.FA_USER);
      await page.fill('input[name=password]', process.env.FA_PASSWORD);
      await Promise.all([page.waitForURL((url) => url.pathname === '/'),
        page.click('button[type=submit]')]);
      await page.waitForSelector(`#devices a[href="#device/${DEVICE}"]`);
      assert.equal(await page.isVisible('#logout'), true, '"Log out" shown');
      const cookies = await context.cookies();
      const session = cookies.find((c) => c.name === 'fluxaudit_session');
      assert.ok(session, 'session cookie set');
      assert.equal(session.httpOnly, true);
      assert.equal(session.sameSite, 'Strict');
      const res = await context.request.get(LOGIN_BASE + '/api/summary');
      assert.equal(res.status(), 200);
      assert.equal((await res.json()).login_required, true);
      await shot(page, 'login-overview.png');
    });

    test('logging out ends the session', async () => {
      await Promise.all([page.waitForURL(/\/login/), page.click('#logout')]);
      const res = await context.request.get(LOGIN_BASE + '/api/summary');
      assert.equal(res.status(), 401);
    });

    test('no console error, page error or failed request', () => {
      assert.deepEqual(problems, []);
    });
  });
