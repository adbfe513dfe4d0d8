/**
 * The AI gateway's shared state (issue 14 §2): every process that calls a model admits the call
 * here first, so N processes together keep one shop's limits — a sliding-window rate limit and a
 * monthly budget — exactly (the row of the shop's month is locked for the decision; no process
 * decides from its own memory).
 *
 * - `ai_budgets`: one row per shop and budget month (the month in the shop's time zone): the
 *   cap, what admitted calls have reserved (their worst case) and what finished calls cost, and
 *   whether the 80 % and 100 % alerts went out (each once a month).
 * - `ai_calls`: one row per admitted call, while it runs and for the rate window after: when it
 *   started (the sliding window counts these), what it reserved, whether it settled.
 * - `ai_alerts`: the 80 % and 100 % alerts raised, until a gateway has sent them (an outbox).
 *
 * `ai_admit` and `ai_settle` are one round trip each. A call that never settles (its process
 * died) keeps its reservation until it is stale, then counts as spent at its worst case: the
 * budget errs on the side of spending less, never more.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(`
    CREATE TABLE ai_budgets (
      shop text NOT NULL,
      month text NOT NULL,
      cap_micros bigint NOT NULL,
      reserved_micros bigint NOT NULL DEFAULT 0,
      settled_micros bigint NOT NULL DEFAULT 0,
      alerted_80 boolean NOT NULL DEFAULT false,
      alerted_100 boolean NOT NULL DEFAULT false,
      PRIMARY KEY (shop, month)
    )`)
  yield* sql.unsafe(`
    CREATE TABLE ai_calls (
      call_id text PRIMARY KEY,
      shop text NOT NULL,
      month text NOT NULL,
      started_at timestamptz NOT NULL,
      reserved_micros bigint NOT NULL,
      settled_micros bigint
    )`)
  // The alerts' outbox: written with the flag, in the same transaction; a gateway publishes it and
  // marks it sent, and any gateway sends what a crash left unsent (the message id is derived from
  // the shop, month and threshold, so an alert sent twice is recorded once)
  yield* sql.unsafe(`
    CREATE TABLE ai_alerts (
      shop text NOT NULL,
      month text NOT NULL,
      threshold integer NOT NULL,
      cap_micros bigint NOT NULL,
      spent_micros bigint NOT NULL,
      reason text NOT NULL,
      raised_at timestamptz NOT NULL DEFAULT now(),
      sent_at timestamptz,
      PRIMARY KEY (shop, month, threshold)
    )`)
  yield* sql.unsafe(`CREATE INDEX ai_alerts_unsent ON ai_alerts (raised_at) WHERE sent_at IS NULL`)
  yield* sql.unsafe(`CREATE INDEX ai_calls_window ON ai_calls (shop, started_at)`)
  yield* sql.unsafe(`CREATE INDEX ai_calls_unsettled ON ai_calls (shop, started_at) WHERE settled_micros IS NULL`)
  for (const table of ["ai_budgets", "ai_calls", "ai_alerts"]) {
    yield* sql.unsafe(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`)
    yield* sql.unsafe(`CREATE POLICY ${table}_tenant ON ${table} USING (shop = current_shop()) WITH CHECK (shop = current_shop())`)
    yield* sql.unsafe(`GRANT SELECT ON ${table} TO sumeru_tenant`)
  }

  // Admission: rate window first (a refused call reserves nothing), then the budget:
  // - 'budget_exceeded' when what is already spent leaves no room for this call's worst case —
  //   the month's budget is spent; the first such refusal raises the 100 % alert (and the 80 %
  //   one if that much was spent and it was not raised yet);
  // - 'budget_busy' when only calls still running hold the room (their reservations are worst
  //   cases, mostly released when they settle): the caller waits and asks again, instead of
  //   being refused while the budget is not spent;
  // - 'admitted': the worst case reserved.
  // Reservations of calls that never settled (their process died) are settled at their worst
  // case after p_stale_ms: the budget errs on the side of spending less, and frees up.
  yield* sql.unsafe(`
    CREATE FUNCTION ai_admit_one(p_call text, p_shop text, p_month text, p_cap bigint, p_worst bigint,
                                 p_limit integer, p_window_ms bigint, p_now timestamptz, p_stale_ms bigint)
    RETURNS TABLE (outcome text, retry_after_ms bigint, cap_micros bigint, reserved_micros bigint, settled_micros bigint,
                   alert_80 boolean, alert_100 boolean)
    LANGUAGE plpgsql AS $$
    #variable_conflict use_column
    DECLARE
      b ai_budgets%ROWTYPE;
      recent integer;
      oldest timestamptz;
      stale bigint;
      a80 boolean := false;
      a100 boolean := false;
    BEGIN
      -- the shop's month row, created or its cap brought up to date, and locked until commit
      INSERT INTO ai_budgets AS t (shop, month, cap_micros) VALUES (p_shop, p_month, p_cap)
        ON CONFLICT (shop, month) DO UPDATE SET cap_micros = EXCLUDED.cap_micros
        RETURNING * INTO b;
      WITH gone AS (
        UPDATE ai_calls c SET settled_micros = c.reserved_micros
         WHERE c.shop = p_shop AND c.month = p_month AND c.settled_micros IS NULL
           AND c.started_at < p_now - make_interval(secs => p_stale_ms / 1000.0)
        RETURNING c.reserved_micros)
      SELECT coalesce(sum(gone.reserved_micros), 0) INTO stale FROM gone;
      IF stale > 0 THEN
        UPDATE ai_budgets t SET reserved_micros = t.reserved_micros - stale, settled_micros = t.settled_micros + stale
         WHERE t.shop = p_shop AND t.month = p_month RETURNING * INTO b;
      END IF;
      -- the window's calls, counted up to the limit (a plan's limit bounds the work, not the traffic)
      SELECT count(*) INTO recent FROM (
        SELECT 1 FROM ai_calls c WHERE c.shop = p_shop AND c.started_at > p_now - make_interval(secs => p_window_ms / 1000.0) LIMIT p_limit) w;
      IF recent >= p_limit THEN
        SELECT min(c.started_at) INTO oldest FROM ai_calls c
         WHERE c.shop = p_shop AND c.started_at > p_now - make_interval(secs => p_window_ms / 1000.0);
        RETURN QUERY SELECT 'rate_limited'::text,
          GREATEST(1, ceil(extract(epoch FROM (oldest + make_interval(secs => p_window_ms / 1000.0) - p_now)) * 1000))::bigint,
          b.cap_micros, b.reserved_micros, b.settled_micros, false, false;
        RETURN;
      END IF;
      IF b.settled_micros + p_worst > b.cap_micros THEN
        -- the budget cannot cover a call: that is its 100 % (the 80 % only if it was spent)
        a80 := NOT b.alerted_80 AND b.settled_micros * 100 >= b.cap_micros * 80;
        a100 := NOT b.alerted_100;
        IF a80 OR a100 THEN
          UPDATE ai_budgets t SET alerted_80 = t.alerted_80 OR a80, alerted_100 = true WHERE t.shop = p_shop AND t.month = p_month;
          INSERT INTO ai_alerts (shop, month, threshold, cap_micros, spent_micros, reason)
            SELECT p_shop, p_month, x, b.cap_micros, b.settled_micros, 'refused'
              FROM unnest(array_remove(ARRAY[CASE WHEN a80 THEN 80 END, CASE WHEN a100 THEN 100 END], NULL)) x
            ON CONFLICT DO NOTHING;
        END IF;
        RETURN QUERY SELECT 'budget_exceeded'::text, 0::bigint, b.cap_micros, b.reserved_micros, b.settled_micros, a80, a100;
        RETURN;
      END IF;
      IF b.settled_micros + b.reserved_micros + p_worst > b.cap_micros THEN
        RETURN QUERY SELECT 'budget_busy'::text, 0::bigint, b.cap_micros, b.reserved_micros, b.settled_micros, false, false;
        RETURN;
      END IF;
      UPDATE ai_budgets t SET reserved_micros = t.reserved_micros + p_worst WHERE t.shop = p_shop AND t.month = p_month;
      INSERT INTO ai_calls (call_id, shop, month, started_at, reserved_micros) VALUES (p_call, p_shop, p_month, p_now, p_worst);
      RETURN QUERY SELECT 'admitted'::text, 0::bigint, b.cap_micros, b.reserved_micros + p_worst, b.settled_micros, false, false;
    END $$`)

  // Many admissions in one round trip and one commit (the gateway combines the calls that arrive
  // while the previous batch is in flight): each decided by ai_admit_one, in the order given
  // (the gateway sorts a batch by shop and month: one lock order, no deadlock between processes).
  yield* sql.unsafe(`
    CREATE FUNCTION ai_admit(p_calls jsonb)
    RETURNS TABLE (call_id text, outcome text, retry_after_ms bigint, cap_micros bigint, reserved_micros bigint, settled_micros bigint,
                   alert_80 boolean, alert_100 boolean)
    LANGUAGE plpgsql AS $$
    DECLARE
      c jsonb;
    BEGIN
      FOR c IN SELECT value FROM jsonb_array_elements(p_calls) LOOP
        RETURN QUERY SELECT c->>'callId', a.* FROM ai_admit_one(c->>'callId', c->>'shop', c->>'month', (c->>'capMicros')::bigint,
          (c->>'worstMicros')::bigint, (c->>'limit')::integer, (c->>'windowMs')::bigint, (c->>'now')::timestamptz, (c->>'staleMs')::bigint) a;
      END LOOP;
    END $$`)

  // Settled calls older than every window (an hour at most) are no one's business any more: the
  // usage log keeps them. The gateway sweeps them now and then.
  yield* sql.unsafe(`
    CREATE FUNCTION ai_sweep(p_before timestamptz) RETURNS bigint LANGUAGE sql AS $$
      WITH gone AS (DELETE FROM ai_calls WHERE started_at < p_before AND settled_micros IS NOT NULL RETURNING 1)
      SELECT count(*) FROM gone
    $$`)

  // Settlement: the reservation released, the actual cost added (once: a second settle of the
  // same call changes nothing); which alerts this settlement is the first to reach. Calls are
  // settled in batches (the gateway settles off the caller's path): one round trip for many.
  yield* sql.unsafe(`
    CREATE FUNCTION ai_settle(p_calls text[], p_actuals bigint[])
    RETURNS TABLE (call_id text, shop text, month text, cap_micros bigint, settled_micros bigint, alert_80 boolean, alert_100 boolean)
    LANGUAGE plpgsql AS $$
    #variable_conflict use_column
    DECLARE
      c ai_calls%ROWTYPE;
      b ai_budgets%ROWTYPE;
      a80 boolean;
      a100 boolean;
    BEGIN
      FOR i IN 1 .. coalesce(array_length(p_calls, 1), 0) LOOP
        -- the budget row first, as admissions take it (then the call's row): one lock order
        SELECT * INTO c FROM ai_calls t WHERE t.call_id = p_calls[i] AND t.settled_micros IS NULL;
        CONTINUE WHEN NOT FOUND;
        PERFORM 1 FROM ai_budgets t WHERE t.shop = c.shop AND t.month = c.month FOR UPDATE;
        UPDATE ai_calls t SET settled_micros = p_actuals[i] WHERE t.call_id = p_calls[i] AND t.settled_micros IS NULL RETURNING * INTO c;
        CONTINUE WHEN NOT FOUND;
        UPDATE ai_budgets t SET reserved_micros = t.reserved_micros - c.reserved_micros, settled_micros = t.settled_micros + p_actuals[i]
         WHERE t.shop = c.shop AND t.month = c.month RETURNING * INTO b;
        a80 := NOT b.alerted_80 AND b.settled_micros * 100 >= b.cap_micros * 80;
        a100 := NOT b.alerted_100 AND b.settled_micros >= b.cap_micros;
        IF a80 OR a100 THEN
          UPDATE ai_budgets t SET alerted_80 = t.alerted_80 OR a80, alerted_100 = t.alerted_100 OR a100 WHERE t.shop = c.shop AND t.month = c.month;
          INSERT INTO ai_alerts (shop, month, threshold, cap_micros, spent_micros, reason)
            SELECT c.shop, c.month, x, b.cap_micros, b.settled_micros, 'settled'
              FROM unnest(array_remove(ARRAY[CASE WHEN a80 THEN 80 END, CASE WHEN a100 THEN 100 END], NULL)) x
            ON CONFLICT DO NOTHING;
        END IF;
        RETURN QUERY SELECT c.call_id, c.shop, c.month, b.cap_micros, b.settled_micros, a80, a100;
      END LOOP;
    END $$`)
})
