// Drives the gateway's /ui page in headless Chromium (the system's, through playwright-core):
// signs in with an API key, posts a batch from the page as a client would, waits until the
// batch's progress bar shows 100%, and saves a screenshot.
//
// node dashboard.mjs <gatewayUrl> <batch.json> <screenshot.png> <timeoutSeconds>
// The API key comes from the environment (TXGW_UI_API_KEY), never from the command line.
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";

const [url, batchFile, screenshot, timeoutSeconds] = process.argv.slice(2);
const apiKey = process.env.TXGW_UI_API_KEY;
const executablePath = process.env.TXGW_CHROMIUM || "/usr/bin/chromium";
const timeout = Number(timeoutSeconds) * 1000;
const batch = JSON.parse(readFileSync(batchFile, "utf8"));

const browser = await chromium.launch({
  executablePath,
  headless: true,
  // This machine's network is closed: Chromium's own background traffic only fails and retries.
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  timeout,
});
const result = { posted: null, percent: null, seconds: null, errors: [] };
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on("pageerror", (e) => result.errors.push(String(e)));
  page.setDefaultTimeout(timeout);
  const t0 = Date.now();
  await page.goto(url + "/ui/");
  await page.fill("#key", apiKey);
  await page.click("#login button");
  await page.waitForFunction(() => document.getElementById("state").textContent.startsWith("updated"));
  result.posted = await page.evaluate(async ([body, key]) => {
    const response = await fetch("/v1/batches", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Api-Key": key },
      body: JSON.stringify(body),
    });
    return response.status;
  }, [batch, apiKey]);
  const bar = page.locator(`tr[data-batch="${batch.batchId}"] .bar`);
  await bar.waitFor();
  await page.waitForSelector(`tr[data-batch="${batch.batchId}"] .bar[data-percent="100"]`);
  result.percent = Number(await bar.getAttribute("data-percent"));
  // The lag chart has drawn its lines by now (a reading a second), and within a reading or two
  // it shows the consumers caught up with the batch.
  await page.waitForSelector("#lag-chart polyline", { state: "attached" });
  await page.waitForFunction(() => document.getElementById("lag-now").textContent.startsWith("now 0 waiting"));
  result.seconds = (Date.now() - t0) / 1000;
  await page.screenshot({ path: screenshot, fullPage: true });
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
process.exit(result.percent === 100 && result.posted === 202 && result.errors.length === 0 ? 0 : 1);
