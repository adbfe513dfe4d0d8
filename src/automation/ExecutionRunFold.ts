/** An execution's run, folded from its `autoaction-<shop>-<executionId>` stream (`domain/automation/ExecutionRuns.ts`). */
import { decodeExecutionRunEvent, evolveRun, ExecutionRun, initialRun } from "../../domain/automation/ExecutionRuns.ts"
import type { AppendFold } from "../eventstore/EventStore.ts"

export const executionRunFold: AppendFold<ExecutionRun> = {
  name: "execution_run",
  version: 1,
  initial: () => initialRun,
  evolve: (state, event) => {
    const e = decodeExecutionRunEvent(event.data)
    return e === undefined ? state : evolveRun(state, e)
  },
  schema: ExecutionRun
}
