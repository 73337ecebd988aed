/** A configuration file that cannot be parsed; carries the file and the 1-indexed line. */
export class ConfigSyntaxError extends SyntaxError {
  readonly file: string;
  readonly line: number | undefined;

  constructor(file: string, line: number | undefined, detail: string) {
    super(`Cannot parse "${file}"${line === undefined ? "" : ` at line ${line}`}: ${detail}`);
    this.name = "ConfigSyntaxError";
    this.file = file;
    this.line = line;
  }
}
