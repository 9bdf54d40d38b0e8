// One set of import rules, run in one of two modes (issue 16 item 6): an import stops at the first
// rule that fails and is refused with it, as CloudStack's importVm is; its preview runs every rule it
// can and reports each failure, so an operator sees at once everything to fix. The rules are written
// once, against this collector: a rule that fails calls `fail` (or throws an ApiError inside
// `attempt`), which throws in the first mode and records the problem in the other. A rule whose inputs
// an earlier failure left unknown is skipped (its caller has `undefined` for them), so a preview never
// reports a consequence of a problem it has already reported.
import type { Rejection } from '../../../domain/shared/decider.js';
import { ApiError } from '../port.js';

export interface ImportProblem {
  readonly code: ApiError['code'];
  readonly message: string;
  readonly field: string | null;
}

export class ImportChecks {
  private readonly found: ApiError[] = [];

  private constructor(readonly collecting: boolean) {}

  /** An import's: the first failure is thrown. */
  static firstError(): ImportChecks {
    return new ImportChecks(false);
  }

  /** A preview's: every failure is recorded. */
  static collectAll(): ImportChecks {
    return new ImportChecks(true);
  }

  get problems(): ImportProblem[] {
    return this.found.map((error) => ({ code: error.code, message: error.message, field: error.field ?? null }));
  }

  get failed(): boolean {
    return this.found.length > 0;
  }

  /** Records (or, for an import, throws) `error`; undefined, for `return checks.fail(…)`. */
  fail(error: ApiError): undefined {
    if (!this.collecting) throw error;
    // The same rule reached twice (a NIC's network named twice) is one problem.
    if (!this.found.some((seen) => seen.code === error.code && seen.message === error.message && seen.field === error.field)) this.found.push(error);
    return undefined;
  }

  /** A decider's or a pure rule's refusal, as the API's error. */
  reject(rejection: Rejection): undefined {
    return this.fail(new ApiError(rejection.code, rejection.message, rejection.field));
  }

  /** Runs a rule written to throw: its ApiError is a failure of this check; anything else is a bug and propagates. */
  attempt<T>(rule: () => T): T | undefined {
    try {
      return rule();
    } catch (error) {
      if (error instanceof ApiError) return this.fail(error);
      throw error;
    }
  }

  async attemptAsync<T>(rule: () => Promise<T>): Promise<T | undefined> {
    try {
      return await rule();
    } catch (error) {
      if (error instanceof ApiError) return this.fail(error);
      throw error;
    }
  }
}
