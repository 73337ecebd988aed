/**
 * The two small programs the netns lab runs inside its namespaces (`ip netns exec NS node -e ...`).
 * They are plain JavaScript strings because they run in a fresh `node` process, not in the test's.
 *
 * Server agent: `argv = [name, tcpPorts, udpBinds]`; listens on 0.0.0.0 for every TCP port and on
 * the given `ip:port` pairs for UDP, and answers every connection or datagram with one line
 * `name localIp:localPort peerIp:peerPort` (so the client learns who answered, the destination the
 * server saw after any DNAT, and the source after any SNAT/MASQUERADE). Prints `ready` when listening.
 *
 * Client agent: reads one JSON request per line from stdin, answers one JSON line on stdout:
 * `{id, outcome: "answer"|"error"|"timeout", errno?, reply?}`. Every attempt has a hard timeout.
 */

export const SERVER_AGENT = String.raw`
const net = require("node:net");
const dgram = require("node:dgram");
const [name, tcpArg, udpArg] = process.argv.slice(1);
const tcpPorts = (tcpArg || "").split(",").filter(Boolean).map(Number);
const udpBinds = (udpArg || "").split(",").filter(Boolean);
let pending = tcpPorts.length + udpBinds.length;
const ready = () => { if (--pending === 0) process.stdout.write("ready\n"); };
if (pending === 0) process.stdout.write("ready\n");
for (const port of tcpPorts) {
  const server = net.createServer((sock) => {
    sock.on("error", () => {});
    sock.end(name + " " + sock.localAddress + ":" + sock.localPort + " " + sock.remoteAddress + ":" + sock.remotePort + "\n");
  });
  server.on("error", (e) => { process.stderr.write("listen " + port + ": " + e.message + "\n"); process.exit(3); });
  server.listen({ port, host: "0.0.0.0", backlog: 512 }, ready);
}
for (const bind of udpBinds) {
  const [ip, port] = bind.split(":");
  const sock = dgram.createSocket("udp4");
  sock.on("message", (msg, rinfo) => {
    sock.send(name + " " + ip + ":" + port + " " + rinfo.address + ":" + rinfo.port + "\n", rinfo.port, rinfo.address);
  });
  sock.on("error", (e) => { process.stderr.write("udp " + bind + ": " + e.message + "\n"); process.exit(3); });
  sock.bind(Number(port), ip, ready);
}
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
`;

export const CLIENT_AGENT = String.raw`
const net = require("node:net");
const dgram = require("node:dgram");
const readline = require("node:readline");
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
function tcp(req) {
  return new Promise((resolve) => {
    let done = false;
    // A connected socket is closed with RST (no TIME_WAIT, and conntrack lets the same tuple open
    // again); a socket still connecting must be destroyed plainly: resetAndDestroy() leaves its fd open.
    const finish = (o) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (sock.connecting || sock.destroyed) sock.destroy();
      else { try { sock.resetAndDestroy(); } catch { sock.destroy(); } }
      resolve(o);
    };
    const opts = { host: req.dstIp, port: req.dstPort };
    if (req.srcIp) opts.localAddress = req.srcIp;
    if (req.srcPort) opts.localPort = req.srcPort;
    const sock = net.connect(opts);
    let data = "";
    sock.on("data", (d) => { data += d; if (data.includes("\n")) finish({ outcome: "answer", reply: data.trim() }); });
    sock.on("end", () => finish(data ? { outcome: "answer", reply: data.trim() } : { outcome: "error", errno: "EOF" }));
    sock.on("error", (e) => finish({ outcome: "error", errno: e.code || e.message }));
    const timer = setTimeout(() => finish({ outcome: "timeout" }), req.timeoutMs);
  });
}
function udp(req) {
  return new Promise((resolve) => {
    const sock = dgram.createSocket("udp4");
    let done = false;
    const finish = (o) => { if (done) return; done = true; clearTimeout(timer); try { sock.close(); } catch {} resolve(o); };
    sock.on("message", (m) => finish({ outcome: "answer", reply: m.toString().trim() }));
    sock.on("error", (e) => finish({ outcome: "error", errno: e.code || e.message }));
    const timer = setTimeout(() => finish({ outcome: "timeout" }), req.timeoutMs);
    const send = () => sock.connect(req.dstPort, req.dstIp, (err) => {
      if (err) return finish({ outcome: "error", errno: err.code || err.message });
      sock.send("probe\n", (e) => { if (e) finish({ outcome: "error", errno: e.code || e.message }); });
    });
    if (req.srcPort || req.srcIp) sock.bind({ port: req.srcPort || 0, address: req.srcIp || "0.0.0.0", exclusive: true }, send);
    else send();
  });
}
const rl = readline.createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on("line", (line) => {
  const req = JSON.parse(line);
  chain = chain.then(async () => {
    const started = Date.now();
    const res = await (req.protocol === "udp" ? udp(req) : tcp(req));
    out({ id: req.id, ms: Date.now() - started, ...res });
  });
});
rl.on("close", () => chain.then(() => process.exit(0)));
process.stdout.write(JSON.stringify({ ready: true }) + "\n");
`;
