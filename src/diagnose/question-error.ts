/** A usage problem with the question itself (exit 2), e.g. a pod that is not in the bundle. */
export class QuestionError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = "QuestionError";
  }
}
