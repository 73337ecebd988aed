/**
 * How netdoctor's tests, benchmark and screenshot script start Chromium: Debian's /usr/bin/chromium
 * (never a downloaded browser), headless, with every background service that could reach the network off.
 * Data only, so this file stays pure; callers pass it to playwright-core's `chromium.launch`.
 */
export const CHROMIUM_LAUNCH: { readonly executablePath: string; readonly args: string[] } = {
  executablePath: "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};
