// The shared admission cases, run against the pure model.
import { AdmissionModel } from "../../../durable-objects/event-gate/model";
import { runAdmissionCases, type AdmissionSubject } from "./cases";

function modelSubject(): AdmissionSubject {
  const model = new AdmissionModel();
  let now = 1_700_000_000_000;
  let n = 0;
  return {
    configure: async (limits) => model.configure(limits, now),
    admit: async (input) =>
      model.request({ ...input, now, newTicket: () => `tkt_${++n}`, newSessionId: () => `ses_${++n}` }),
    report: async ({ activeSessionIds, bytes, source }) => {
      model.reportEgress({ source, bytes, now });
      return { expiredSessionIds: model.activity({ sessionIds: activeSessionIds, now }).ended };
    },
    release: async (id) => model.release(id, now),
    setOverload: async (enabled) => model.setOverload(enabled, now),
    snapshot: async () => model.snapshot(now),
    advance: async (ms) => {
      now += ms;
    },
  };
}

runAdmissionCases(async () => modelSubject());
