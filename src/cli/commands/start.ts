/**
 * `sumeru start [--role all|ingress|worker|projector] [--port N]`: the long-running process,
 * until SIGINT/SIGTERM (the runtime interrupts it; finalizers close the HTTP server, the
 * projection runners and the database).
 */
import { Effect, Logger, Option, References } from "effect"
import { Command, Flag, GlobalFlag } from "effect/cli"
import { userFacing } from "../errors.ts"

/** A signal ending `start` is a normal shutdown (exit 0), not an interruption (130). */
export let gracefulOnSignal = false

export const startCommand = Command.make(
  "start",
  {
    role: Flag.Literals("role", ["all", "ingress", "worker", "projector"]).pipe(
      Flag.withDescription("What this process does: ingress (HTTP), worker (shop actors), projector (projections), or all"),
      Flag.withDefault("all")
    ),
    port: Flag.Int("port").pipe(
      Flag.filterMap((n) => (n >= 0 && n <= 65_535 ? Option.some(n) : Option.none()), () => "a TCP port (0-65535)"),
      Flag.withDescription("HTTP port for /healthz, /readyz, /metrics (default: $PORT or 3000)"),
      Flag.optional
    )
  },
  ({ role, port }) =>
    Effect.gen(function*() {
      // Only a real SIGINT/SIGTERM makes the interruption a clean exit 0: anything else that
      // interrupts the server must not pass for a normal shutdown.
      for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => { gracefulOnSignal = true })
      const level = yield* GlobalFlag.LogLevel
      // Loaded on demand: the other commands do not need the HTTP stack.
      const { serve } = yield* Effect.promise(() => import("../../server/Server.ts"))
      yield* userFacing(serve({ role, port: Option.getOrUndefined(port) })).pipe(
        Effect.provideService(References.MinimumLogLevel, Option.getOrElse(level, () => "Info" as const)),
        Effect.provideService(Logger.LogToStderr, false),
        Effect.scoped
      )
    })
).pipe(Command.withDescription("Run the server (all roles, or one) until SIGINT/SIGTERM"))
