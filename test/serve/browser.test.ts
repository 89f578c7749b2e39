/**
 * End to end in a real browser: Debian's chromium (never a downloaded one) driven by
 * playwright-core loads the page, clicks a device and checks that exactly the hot-reset scope and
 * the groups to own are highlighted; on a simulated pciehp port it runs a function reset and finds
 * the spurious hot-remove in the log; on a 200-function server it opens a folded row. Screenshots go
 * to the system's temporary directory for people to look at; they are not part of the repository.
 * Skips, saying why, where /usr/bin/chromium is absent (`apt-get install chromium`).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { generateLargeHost } from '../../src/topology/generate-large.ts';
import { loadTopologyFile } from '../../src/topology/load.ts';
import { type Running, serve, simServed } from './helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is absent: install Debian's chromium (apt-get install -y chromium) to run the browser test`;

const shots = mkdtempSync(join(tmpdir(), 'vfio-reset-page-'));
const shot = async (page: Page, name: string) => {
  const path = join(shots, `${name}.png`);
  await page.screenshot({ path });
  assert.ok(statSync(path).size > 10_000, `${path} holds a picture`);
  return path;
};

const bdfsOf = (page: Page, selector: string) =>
  page.$$eval(selector, (es) => es.map((e) => e.getAttribute('data-bdf') ?? e.getAttribute('data-bdfs')));

describe('the local page in chromium', { skip }, () => {
  let browser: BrowserContext;
  const servers: Running[] = [];
  const errors: string[] = [];
  const open = async (s: Running): Promise<Page> => {
    const page = await browser.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(s.url);
    await page.waitForSelector('#picture svg .fn');
    return page;
  };

  before(async () => {
    browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'vfio-reset-chromium-')), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 800 },
      // A fresh --user-data-dir is the directory above (Playwright passes it itself).
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  after(async () => {
    await browser?.close();
    for (const s of servers) await s.close();
  });

  it('workstation: a click on the GPU highlights its hot-reset scope, the group to own and the device in the way', async () => {
    const host = simServed(loadTopologyFile('examples/workstation.yaml'), 'sim:examples/workstation.yaml');
    const s = await serve(host);
    servers.push(s);
    const page = await open(s);
    assert.equal(await page.locator('#mode').textContent(), 'simulated kernel');
    await page.click('[data-bdf="0000:01:00.0"]');
    await page.waitForSelector('#picture svg .fn.hl-selected');

    const gpu = host.inventory().functions.find((f) => f.bdf === '0000:01:00.0')!;
    assert.deepEqual(
      await bdfsOf(page, '#picture .fn.hl-scope'),
      gpu.hotReset!.affected.map((a) => a.bdf),
    );
    assert.deepEqual(await bdfsOf(page, '#picture .fn.hl-selected'), ['0000:01:00.0']);
    // The audio function holds the reset back: it is on snd_hda_intel, not vfio-pci.
    assert.deepEqual(await bdfsOf(page, '#picture .fn.hl-blocker'), ['0000:01:00.1']);
    assert.deepEqual(
      await page.$$eval('#picture .group-box.hl-owner', (es) =>
        es.map((e) => Number(e.getAttribute('data-group'))),
      ),
      gpu.hotReset!.groups,
    );
    assert.deepEqual(
      await page.$$eval('#picture .domain.hl-domain', (es) => es.map((e) => e.getAttribute('data-domain'))),
      ['slot:0000:01:1'],
    );
    const info = await page.locator('#info').textContent();
    assert.match(info ?? '', /0000:01:00\.0/);
    assert.match(info ?? '', /0000:01:00\.1 to vfio-pci \(now snd_hda_intel\)/);
    // The slot's blocker, said of the GPU; the GPU's own driver is not listed as one.
    assert.match(
      info ?? '',
      /hot reset of 0000:01:00\.0 needs 0000:01:00\.1 \(group 9, driver snd_hda_intel\)/,
    );
    assert.doesNotMatch(info ?? '', /needs 0000:01:00\.0 /);
    assert.equal(await page.locator('#actions').isVisible(), true, 'a simulated host can be reset');
    await shot(page, 'workstation-gpu');

    // Another click moves the highlight: the vfio-pci NVMe alone in pciehp slot 11.
    await page.click('[data-bdf="0000:05:00.0"]');
    await page.waitForSelector('#picture[data-selected="0000:05:00.0"]');
    assert.deepEqual(await bdfsOf(page, '#picture .fn.hl-scope'), ['0000:05:00.0']);
    assert.deepEqual(await bdfsOf(page, '#picture .fn.hl-blocker'), []);
  });

  it('pciehp port: a function reset that is a plain bus reset shows the spurious hot-remove in the log', async () => {
    const path = 'test/serve/fixtures/pciehp-plain-sbr.yaml';
    const s = await serve(simServed(loadTopologyFile(path), `sim:${path}`));
    servers.push(s);
    const page = await open(s);
    await page.click('[data-bdf="0000:01:00.0"]');
    await page.waitForSelector('#actions:not([hidden])');
    await page.selectOption('#method', 'function');
    await page.click('#reset');
    await page.waitForSelector('#events li.ev-hotplug');
    assert.match(
      (await page.locator('#reset-outcome').textContent()) ?? '',
      /function reset of 0000:01:00\.0 done/,
    );
    const hotplug = await page.$$eval('#events li.ev-hotplug', (es) => es.map((e) => e.textContent ?? ''));
    assert.ok(
      hotplug.some((t) => /hot-remove 0000:01:00\.0 \(pciehp: link down after secondary bus reset\)/.test(t)),
      hotplug.join('\n'),
    );
    assert.equal(await page.locator('#hotplug-note').isVisible(), true);
    assert.match((await page.locator('#hotplug-note').textContent()) ?? '', /Spurious hot-remove/);
    // The picture is reloaded after the reset and the device is still selected.
    await page.waitForSelector('#picture svg .fn.hl-selected');
    await shot(page, 'pciehp-plain-sbr-reset');
  });

  it('a 200-function server: the picture loads, a folded row lists its members and one can be picked', async () => {
    const desc = generateLargeHost({ functions: 200 });
    const s = await serve(simServed(desc, 'sim:generated-200'));
    servers.push(s);
    const page = await open(s);
    await shot(page, 'server-200-functions');
    const run = page.locator('#picture .fn.run').first();
    const members = ((await run.getAttribute('data-bdfs')) ?? '').split(' ');
    assert.ok(members.length >= 6);
    await run.click();
    await page.waitForSelector('#info .members button');
    await page.click(`#info .members button[data-member="${members[3]}"]`);
    await page.waitForSelector(`#picture[data-selected="${members[3]}"]`);
    // The folded row stands for the picked member.
    assert.equal(await run.evaluate((e) => e.classList.contains('hl-selected')), true);
    // Unfolded, every function has its own card.
    await page.uncheck('#fold');
    await page.locator('#picture .fn.run').first().waitFor({ state: 'detached' });
    assert.equal(await page.locator('#picture .fn').count(), 200);
  });

  it('no script error on any page', (t) => {
    assert.deepEqual(errors, []);
    t.diagnostic(`screenshots of the page: ${shots}`);
  });
});

// Screenshots stay for people to look at; only an empty directory is removed.
after(() => {
  try {
    rmdirSync(shots);
  } catch {
    // not empty: keep the screenshots
  }
});
