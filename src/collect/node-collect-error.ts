import { CollectError } from "./collect-error.ts";

/** One node could not be collected; the run goes on and the node's directory records why. */
export class NodeCollectError extends CollectError {
  constructor(message: string) {
    super(message);
    this.name = "NodeCollectError";
  }
}
