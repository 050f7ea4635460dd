// The shared admission cases, run against the EventGate Durable Object through its RPC stub in workerd.
import { env } from "cloudflare:workers";
import { eventGate } from "../../../durable-objects/event-gate/client";
import { runAdmissionCases, type AdmissionSubject } from "./cases";

function gateSubject(): AdmissionSubject {
  const gate = eventGate(env, `cases-${crypto.randomUUID()}`);
  // A day ahead of the wall clock: the object's own alarms never come due while a case runs.
  let now = Date.now() + 86_400_000;
  return {
    configure: (limits) => gate.configure(limits, now),
    admit: (input) => gate.admit({ ...input, now }),
    report: (input) => gate.report({ ...input, now }),
    release: (sessionId) => gate.release(sessionId, now),
    setOverload: (enabled) => gate.setOverload(enabled, now),
    snapshot: () => gate.snapshot(now),
    advance: async (ms) => {
      now += ms;
    },
  };
}

runAdmissionCases(async () => gateSubject());
