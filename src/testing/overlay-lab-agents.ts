/**
 * The programs the overlay lab runs in its pod namespaces (`ip netns exec NS node -e ...`). Unlike
 * the netns lab's agents (lab-agents.ts), the server answers only after it has the whole request
 * line, so a request larger than the path MTU is seen to fail when its big segments are lost.
 *
 * One agent per pod, both ends: `argv = [name, tcpPorts, udpPorts]`. As a server it answers every
 * TCP request line and every UDP datagram with `name localIp:localPort peerIp:peerPort bytes`, and
 * prints `ready` once listening. As a client it reads one JSON request per stdin line
 * `{id, protocol, dstIp, dstPort, srcPort?, payload, timeoutMs}` and answers one JSON line
 * `{id, outcome: "answer"|"error"|"timeout", errno?, reply?, ms}`; every attempt has a hard timeout.
 */

export const OVERLAY_POD_AGENT = String.raw`
const net = require("node:net");
const dgram = require("node:dgram");
const [name, tcpArg, udpArg] = process.argv.slice(1);
const tcpPorts = (tcpArg || "").split(",").filter(Boolean).map(Number);
const udpPorts = (udpArg || "").split(",").filter(Boolean).map(Number);
let pending = tcpPorts.length + udpPorts.length;
const ready = () => { if (--pending === 0) process.stdout.write("ready\n"); };
if (pending === 0) process.stdout.write("ready\n");
for (const port of tcpPorts) {
  const server = net.createServer((sock) => {
    sock.on("error", () => {});
    let got = 0;
    let done = false;
    sock.on("data", (d) => {
      got += d.length;
      if (!done && d.includes(10)) {
        done = true;
        sock.end(name + " " + sock.localAddress + ":" + sock.localPort + " " + sock.remoteAddress + ":" + sock.remotePort + " " + got + "\n");
      }
    });
  });
  server.on("error", (e) => { process.stderr.write("listen " + port + ": " + e.message + "\n"); process.exit(3); });
  server.listen({ port, host: "0.0.0.0", backlog: 512 }, ready);
}
for (const port of udpPorts) {
  const sock = dgram.createSocket("udp4");
  sock.on("message", (msg, rinfo) => {
    const a = sock.address();
    sock.send(name + " " + a.address + ":" + a.port + " " + rinfo.address + ":" + rinfo.port + " " + msg.length + "\n", rinfo.port, rinfo.address);
  });
  sock.on("error", (e) => { process.stderr.write("udp " + port + ": " + e.message + "\n"); process.exit(3); });
  sock.bind(port, "0.0.0.0", ready);
}

const readline = require("node:readline");
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
function body(n) { return Buffer.concat([Buffer.alloc(Math.max(0, n - 1), 120), Buffer.from("\n")]); }
function tcp(req) {
  return new Promise((resolve) => {
    let done = false;
    const finish = (o) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (sock.connecting || sock.destroyed) sock.destroy();
      else { try { sock.resetAndDestroy(); } catch { sock.destroy(); } }
      resolve(o);
    };
    const opts = { host: req.dstIp, port: req.dstPort };
    if (req.srcPort) opts.localPort = req.srcPort;
    const sock = net.connect(opts, () => sock.write(body(req.payload)));
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
      sock.send(body(req.payload), (e) => { if (e) finish({ outcome: "error", errno: e.code || e.message }); });
    });
    if (req.srcPort) sock.bind({ port: req.srcPort, exclusive: true }, send);
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
`;
