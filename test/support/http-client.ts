// The platform tests' HTTP client, made to behave like a browser towards workerd.
//
// Under heavy load (a full-CPU background job plus other suites, 200 simulated viewers on 2 cores),
// Node's fetch sometimes sent a request on a kept-alive socket that workerd was closing, and failed
// with "SocketError: other side closed" before any byte of the answer (3 of 10 fan-out runs in
// /tmp; none without the extra load). Dropping idle sockets after 1 s did not stop it, so it is not
// only the idle timeout. Browsers resend a GET that fails that way on a reused connection; undici does
// not. Here a GET or HEAD is sent once more on a socket error only: every HTTP answer, 5xx included,
// reaches the test as it came. (A body cut off midway is resumed with Range, as hls.js would retry it.)
import { Agent, RetryAgent, setGlobalDispatcher } from "undici";

export const retried = { count: 0 };

const RESEND_CODES = ["UND_ERR_SOCKET", "ECONNRESET"];

setGlobalDispatcher(
  new RetryAgent(new Agent({ keepAliveTimeout: 1_000, keepAliveMaxTimeout: 1_000 }), {
    // An answer with any status goes to the test as it came; only the function below decides resends.
    statusCodes: [],
    retry(err, { state, opts }, callback) {
      const code = (err as { code?: string }).code ?? "";
      const idempotent = opts.method === "GET" || opts.method === "HEAD";
      if (state.counter > 1 || !idempotent || !RESEND_CODES.includes(code)) return callback(err);
      retried.count++;
      callback(null);
    },
  }),
);
