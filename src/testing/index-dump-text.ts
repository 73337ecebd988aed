/**
 * kube-proxy's index of a dump given as text, read rule by rule by the streaming indexer (the path of
 * the full check and the exporter), for tests.
 */
import { type KubeProxyIndex, KubeProxyIndexer } from "../kube-proxy/kube-proxy-index.ts";
import { DumpReader } from "../parse/dump-reader.ts";

export function indexDumpText(text: string): KubeProxyIndex {
  const indexer = new KubeProxyIndexer();
  const reader = new DumpReader(indexer.handler);
  reader.push(text);
  reader.end();
  return indexer.finish();
}
