// Drives real VS Code (code-server) with Debian's Chromium through playwright-core.
// Started by ../scripts/e2e.sh with E2E_URL, E2E_WORKSPACE and E2E_ARTIFACTS set.
// Asserts on what the page shows; exits non-zero on the first failed step.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const url = process.env.E2E_URL;
const ws = process.env.E2E_WORKSPACE;
const artifacts = process.env.E2E_ARTIFACTS;
const t0 = Date.now();
const timings = {};
const mark = (name) => {
  timings[name] = (Date.now() - t0) / 1000;
  console.log(`  ${timings[name].toFixed(1)}s ${name}`);
};
const mod = process.platform === 'darwin' ? 'Meta' : 'Control';

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
let failed;
let impactText;
let toastText;
let codeLens;
let mcpListed;
let mcpProcess;
let mcpState;
try {
  await page.goto(`${url}/?folder=${encodeURIComponent(ws)}`);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  mark('workbench');

  // Indexing: the status bar item spins while $/progress runs, then shows the graph icon
  // once the server reported the end of the run (resolution included).
  const status = page.locator('.statusbar-item', { hasText: 'isgraph' });
  await status.first().waitFor({ timeout: 60_000 });
  mark('extension active (status bar item)');
  try {
    await status.locator('.codicon-sync').waitFor({ timeout: 30_000 });
    mark('indexing (spinner)');
  } catch {
    // Indexing a tiny workspace may be over before the spinner is seen.
  }
  await status.locator('.codicon-type-hierarchy').waitFor({ timeout: 90_000 });
  mark('indexed (status bar)');
  let statusText = (await status.first().getAttribute('aria-label')) ?? '';
  console.log(`  status bar: ${statusText}`);

  // Open a file through Quick Open.
  await page.locator('.monaco-workbench').click({ position: { x: 700, y: 450 } });
  await page.keyboard.press(`${mod}+KeyP`);
  const quick = page.locator('.quick-input-widget input');
  await quick.waitFor();
  await quick.fill('pricing.py');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'pricing.py' }).first().waitFor();
  await page.keyboard.press('Enter');
  const word = page.locator('.monaco-editor .view-line span span', { hasText: /^apply_discount$/ }).first();
  await word.waitFor({ timeout: 30_000 });
  mark('file open');

  // Hover the function's name: isgraph's hover shows kind, signature and the graph facts.
  const facts = 'callers 1 (1 call) · callees 1 · impact 3 (depth 3)';
  const hover = page.locator('.monaco-hover .rendered-markdown', { hasText: 'impact' });
  let hoverText = '';
  for (let attempt = 0; attempt < 10 && !hoverText.includes(facts); attempt++) {
    const box = await word.boundingBox();
    await page.mouse.move(box.x + 5, box.y + box.height / 2);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 3 });
    try {
      await hover.first().waitFor({ timeout: 3_000 });
      hoverText = (await hover.first().innerText()).trim();
    } catch {
      await page.mouse.move(10, 10);
    }
  }
  await page.screenshot({ path: join(artifacts, 'vscode-hover.png') });
  console.log(`  hover: ${JSON.stringify(hoverText)}`);
  for (const expected of ['function', 'apply_discount(price: float, percent: float) -> float', 'Price after a percentage discount.', 'shop/pricing.py:4', facts]) {
    if (!hoverText.includes(expected)) {
      throw new Error(`the hover does not show ${JSON.stringify(expected)}: ${JSON.stringify(hoverText)}`);
    }
  }
  mark('hover shows the graph facts');
  await page.mouse.move(10, 10);
  await page.keyboard.press('Escape');

  // The extension's own command: impact of the definition at the cursor, in a quick pick.
  await word.click();
  await page.keyboard.press('F1');
  await quick.waitFor();
  await quick.fill('>isgraph: Show impact of symbol');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Show impact of symbol' }).first().waitFor();
  await page.keyboard.press('Enter');
  const impactRows = page.locator('.quick-input-list .monaco-list-row');
  await impactRows.filter({ hasText: 'receipt' }).first().waitFor({ timeout: 15_000 });
  const impactTitle = (await page.locator('.quick-input-title').innerText()).trim();
  impactText = (await impactRows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  console.log(`  impact: ${JSON.stringify(impactTitle)} ${JSON.stringify(impactText)}`);
  await page.screenshot({ path: join(artifacts, 'vscode-impact.png') });
  for (const expected of ['basket_total', 'receipt']) {
    if (!impactText.some((t) => t.includes(expected))) {
      throw new Error(`the impact quick pick does not list ${expected}: ${JSON.stringify(impactText)}`);
    }
  }
  await page.keyboard.press('Escape');
  mark('impact command lists the dependents');

  // A server with code lens ("N callers · impact M" above definitions): clicking it runs the
  // server's isgraph.impact, whose answer the extension shows in the same quick pick. Servers
  // without code lens skip this step (said in the output and in result.json).
  const lens = page.locator('.codelens-decoration a', { hasText: 'impact' }).first();
  try {
    await lens.waitFor({ timeout: 5_000 });
  } catch {
    codeLens = 'skipped: this server shows no code lens';
  }
  if (codeLens === undefined) {
    await lens.click();
    await impactRows.filter({ hasText: 'receipt' }).first().waitFor({ timeout: 15_000 });
    codeLens = (await impactRows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    await page.keyboard.press('Escape');
  }
  console.log(`  code lens: ${JSON.stringify(codeLens)}`);
  mark('code lens');

  // Clicking the status bar item shows the statistics (or says this server has none yet).
  await status.first().click();
  const toast = page.locator('.notification-toast', { hasText: /isgraph: (\d+ files|this isgraph server does not support "isgraph\.stats")/ });
  await toast.first().waitFor({ timeout: 15_000 });
  toastText = (await toast.first().innerText()).replace(/\s+/g, ' ').trim();
  console.log(`  stats: ${JSON.stringify(toastText)}`);
  const counted = /(\d+) entities/.exec(toastText);
  if (counted !== null) {
    // A server with isgraph.stats: the status bar item shows the same entity count.
    const withCount = page.locator('.statusbar-item', { hasText: `isgraph ${Number(counted[1]).toLocaleString('en-US')}` });
    await withCount.first().waitFor({ timeout: 15_000 });
    statusText = (await withCount.first().getAttribute('aria-label')) ?? '';
    console.log(`  status bar: ${statusText}`);
  }
  mark('status bar click answered');
  await page.keyboard.press('Escape');

  // Go to Symbol in Workspace: a name defined in another file (checkout.py).
  await page.keyboard.press(`${mod}+KeyT`);
  await quick.waitFor();
  await quick.fill('#basket_total');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'basket_total' }).first();
  await row.waitFor({ timeout: 15_000 });
  const rowText = (await row.innerText()).replace(/\s+/g, ' ').trim();
  console.log(`  symbol row: ${JSON.stringify(rowText)}`);
  if (!rowText.includes('checkout.py')) {
    throw new Error(`the workspace symbol row does not name checkout.py: ${JSON.stringify(rowText)}`);
  }
  await page.screenshot({ path: join(artifacts, 'vscode-workspace-symbol.png') });
  await page.keyboard.press('Enter');
  await page.locator('.tab.active', { hasText: 'checkout.py' }).waitFor({ timeout: 15_000 });
  await page.locator('.monaco-editor .view-line', { hasText: 'def basket_total' }).first().waitFor();
  mark('workspace symbol opened checkout.py');

  // isgraph's MCP server for the agent, contributed by the extension through VS Code's MCP
  // server definition API (no mcp.json): "MCP: List Servers" lists it; starting it from there
  // runs `isgraph mcp --root WORKSPACE`, which answers VS Code's initialize and tools/list.
  await page.keyboard.press('F1');
  await quick.waitFor();
  await quick.fill('>MCP: List Servers');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'List Servers' }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
  const mcpRow = page.locator('.quick-input-list .monaco-list-row', { hasText: 'isgraph' }).first();
  await mcpRow.waitFor({ timeout: 30_000 });
  mcpListed = (await mcpRow.innerText()).replace(/\s+/g, ' ').trim();
  console.log(`  MCP server listed: ${JSON.stringify(mcpListed)}`);
  await page.screenshot({ path: join(artifacts, 'vscode-mcp-list.png') });
  await mcpRow.click();
  const startRow = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Start Server' }).first();
  await startRow.waitFor({ timeout: 15_000 });
  await startRow.click();
  const mcpProcs = () => execFileSync('ps', ['-e', '-o', 'pid=,pgid=,args='], { encoding: 'utf8' })
    .split('\n').map((l) => l.trim()).filter((l) => l.includes(' isgraph mcp --root ') && l.endsWith(ws));
  for (let i = 0; i < 100 && mcpProcs().length === 0; i++) await page.waitForTimeout(200);
  mcpProcess = mcpProcs();
  if (mcpProcess.length !== 1) {
    throw new Error(`expected one "isgraph mcp --root ${ws}" process, found ${JSON.stringify(mcpProcess)}`);
  }
  console.log(`  MCP server process: ${mcpProcess[0]}`);
  // VS Code's own view of it: starting opens the server's output channel, where VS Code logs
  // the MCP handshake and the tools it discovered.
  // (\s, not a space: the editor renders spaces as no-break spaces)
  const discovered = page.locator('.view-line', { hasText: /Discovered\s\d+\stools/ }).first();
  await discovered.waitFor({ timeout: 60_000 });
  mcpState = (await discovered.innerText()).replace(/\s+/g, ' ').trim();
  console.log(`  MCP output: ${JSON.stringify(mcpState)}`);
  if (!mcpState.includes('Discovered 6 tools')) {
    throw new Error(`VS Code did not discover isgraph's 6 MCP tools: ${JSON.stringify(mcpState)}`);
  }
  await page.screenshot({ path: join(artifacts, 'vscode-mcp-running.png') });
  await page.locator('.monaco-editor .view-line', { hasText: 'def basket_total' }).first().click();
  mark('MCP server listed and started by VS Code');

  // A settings change restarts the server (debounced): set isgraph.db to "mem" in the
  // Settings editor, as a user would; the item spins again while the new server indexes.
  await page.keyboard.press(`${mod}+Comma`);
  await page.locator('.settings-editor').waitFor({ timeout: 15_000 });
  await page.keyboard.type('isgraph.db');
  const dbInput = page.locator('.settings-editor .setting-item-contents', { hasText: 'Store connection string' }).locator('input').first();
  await dbInput.waitFor({ timeout: 15_000 });
  await dbInput.fill('mem');
  await page.keyboard.press('Tab');
  await status.locator('.codicon-sync').waitFor({ timeout: 30_000 });
  mark('settings change: server restarting');
  await status.locator('.codicon-type-hierarchy').waitFor({ timeout: 90_000 });
  mark('settings change: re-indexed');

  // The server crashes (SIGKILL, by pid, in code-server's process group): the language client
  // starts it again and the status bar follows the new server through its indexing.
  const servers = execFileSync('ps', ['-e', '-o', 'pid=,pgid=,args='], { encoding: 'utf8' })
    .split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f[1] === process.env.E2E_PGID && f.slice(2).join(' ').endsWith('-m isgraph serve'));
  if (servers.length !== 1) {
    throw new Error(`expected one isgraph server in process group ${process.env.E2E_PGID}, found ${servers.length}`);
  }
  process.kill(Number(servers[0][0]), 'SIGKILL');
  await status.locator('.codicon-sync').waitFor({ timeout: 30_000 });
  await status.locator('.codicon-type-hierarchy').waitFor({ timeout: 90_000 });
  mark('server killed: restarted and re-indexed');
  writeFileSync(join(artifacts, 'result.json'), JSON.stringify({ ok: true, timings, hoverText, rowText, statusText, impactText, toastText, codeLens, mcpListed, mcpProcess, mcpState }, null, 2));
} catch (err) {
  failed = err;
  await page.screenshot({ path: join(artifacts, 'vscode-failure.png') }).catch(() => {});
  writeFileSync(join(artifacts, 'result.json'), JSON.stringify({ ok: false, error: String(err), timings }, null, 2));
  console.error(`e2e failed: ${err.stack ?? err}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
