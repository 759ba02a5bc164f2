import { type Browser, chromium } from "playwright-core";

/**
 * Debian's Chromium (/usr/bin/chromium, installed by .ci/run), headless, driven by
 * playwright-core; Playwright gives each launch a fresh temporary profile. The flags keep it
 * off the network (this machine reaches loopback only) and quiet as root in a container.
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
