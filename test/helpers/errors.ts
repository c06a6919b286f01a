import { type AegisError, isAegisError } from "../../src/shared/index.ts";

/** Awaits `promise` and returns the AegisError it rejected with; anything else fails the test. */
export async function failure(promise: Promise<unknown>): Promise<AegisError> {
  try {
    await promise;
  } catch (error) {
    if (isAegisError(error)) return error;
    throw error;
  }
  throw new Error("expected a failure");
}
