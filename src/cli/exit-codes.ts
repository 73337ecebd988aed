/** Process exit codes, the same for every command. */
export const EXIT_OK = 0;
/** The command ran and found problems. */
export const EXIT_PROBLEMS = 1;
/** Bad arguments or unreadable input. */
export const EXIT_USAGE = 2;

/** An error the CLI prints as one line and exits 2 for. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
