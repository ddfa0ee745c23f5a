import type { MediatedCdr } from "../../node/src/mediation/types";

/**
 * A mediated CDR for tests: a one-minute answered UK call of GLOBEX's by default. The attempt facts
 * follow `startMs` and `disposition` unless given: an answered call was set up and answered at its
 * start; an unanswered one was set up then and never answered.
 */
export function mediatedCdr(overrides: Partial<MediatedCdr> = {}): MediatedCdr {
  const startMs = overrides.startMs ?? Date.UTC(2026, 9, 7, 12);
  const disposition = overrides.disposition ?? "ANSWERED";
  return {
    key: "icl:1",
    partner: "GLOBEX",
    direction: "out",
    service: "voice",
    startMs,
    setupMs: startMs,
    answerMs: disposition === "ANSWERED" ? startMs : null,
    endMs: null,
    duration: 60,
    totalSeconds: null,
    volume: 0,
    aNumber: "12125550100",
    bNumber: "442079460000",
    disposition,
    trunk: null,
    sipCode: null,
    q850Cause: null,
    pddMs: null,
    warnings: null,
    ...overrides,
  };
}
