/**
 * How HTTP handlers (Hono, at the edge) run Effects: with the context the process built from
 * its layers. A mount function names the services its routes use in its `RunEffect<R>`
 * parameter, so wiring a route into a process that does not provide one of them is a type
 * error, not a "service not found" at the first request.
 */
import { type Context, Effect } from "effect"

/** Runs an Effect that needs (at most) the services `R`; rejects when it fails. */
export type RunEffect<R> = <A, E>(effect: Effect.Effect<A, E, R>) => Promise<A>

/** A {@link RunEffect} over a built context (`Layer.build`, `Effect.context`). */
export const runEffectWith = <R>(context: Context.Context<R>): RunEffect<R> => (effect) => Effect.runPromiseWith(context)(effect)
