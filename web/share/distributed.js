// The page's side of distributed jobs: volunteer this page's workers for chunks of a job the
// server splits up (Monte Carlo pi), and start such jobs. It never touches the Worker API (the
// page passes `runTask`) nor the socket's transport (it uses the page's SocketClient).
// Messages: `jobs_join`, `jobs_leave`, `job_start`, `chunk_result` out; `job_chunk`,
// `job_progress` in (defined in server/protocol.py, generated into web/socket/protocol.js; the
// chunk's params and result are the task's own types, py/offload/tasks/montecarlo.py).

import { newId } from "../socket/client.js";
import { ClientType, ServerType } from "../socket/protocol.js";

/**
 * @typedef {import("../socket/client.js").SocketClient} SocketClient
 * @typedef {import("../socket/protocol.js").AckMessage} AckMessage
 * @typedef {import("../socket/protocol.js").MonteCarloResult} ChunkResult
 * @typedef {import("../socket/protocol.js").JobChunkMessage} JobChunk
 * @typedef {import("../socket/protocol.js").JobProgressMessage} JobProgress
 * @typedef {(task: JobChunk["task"], params: JobChunk["params"]) => Promise<ChunkResult>} RunTask
 * @typedef {{
 *   slots?: number,
 *   onChunk?: (chunk: JobChunk, result: ChunkResult) => void,
 *   onAcked?: (chunk: JobChunk, ack: AckMessage) => void,
 *   onProgress?: (progress: JobProgress) => void,
 *   onError?: (error: Error, chunk: JobChunk) => void,
 * }} JoinOptions
 * @typedef {{leave: () => void, readonly computed: number}} Membership
 */

/**
 * Volunteer this page for distributed work until `leave()`.
 *
 * Each `job_chunk` the server sends is computed with `runTask(chunk.task, chunk.params)` and
 * answered with a reliable `chunk_result` (resent after a reconnect until acked; the server
 * counts each chunk once). After a reconnect the page joins again by itself. If a chunk fails,
 * the page leaves and rejoins, which puts every chunk it held back in the server's queue.
 *
 * @param {SocketClient} socket the page's connected (or connecting) SocketClient
 * @param {RunTask} runTask runs a worker task, e.g. in the page's worker pool
 * @param {JoinOptions} [options] `slots`: chunks computed at once (e.g. the pool size); `onChunk`
 *   when a chunk is computed, `onAcked` when the server has counted its answer (or knew it)
 * @returns {Membership}
 */
export function joinDistributedJob(socket, runTask, options = {}) {
  const { slots = 1, onChunk, onAcked, onProgress, onError } = options;
  let active = true;
  let computed = 0;
  const join = () => socket.send({ type: ClientType.JOBS_JOIN, slots });

  /** @param {JobChunk} chunk */
  async function compute(chunk) {
    try {
      const result = await runTask(chunk.task, chunk.params);
      if (!active) return;
      computed += 1;
      onChunk?.(chunk, result);
      const ack = await socket.sendReliable({
        type: ClientType.CHUNK_RESULT,
        // Deterministic: a resend of the same chunk's answer is recognized as one.
        id: `${chunk.job_id}/${chunk.chunk}`,
        job_id: chunk.job_id,
        chunk: chunk.chunk,
        result: { inside: result.inside, samples: result.samples, estimate: result.estimate },
      });
      onAcked?.(chunk, ack);
    } catch (error) {
      if (!active) return;
      onError?.(error instanceof Error ? error : new Error(String(error)), chunk);
      socket.send({ type: ClientType.JOBS_LEAVE });
      join();
    }
  }

  const unsubscribe = socket.subscribe((msg) => {
    if (!active) return;
    switch (msg.type) {
      case ServerType.HELLO:
        join(); // a new connection starts as a non-volunteer
        break;
      case ServerType.JOB_CHUNK:
        void compute(msg);
        break;
      case ServerType.JOB_PROGRESS:
        onProgress?.(msg);
        break;
      default:
        break; // every other message is the page's business
    }
  });
  if (socket.state === "open") join();

  return {
    leave() {
      active = false;
      unsubscribe();
      socket.send({ type: ClientType.JOBS_LEAVE });
    },
    get computed() {
      return computed;
    },
  };
}

/**
 * Ask the server to run a distributed Monte Carlo pi job over `samples` points.
 * Resolves with the server's ack once the job exists (a resend after a reconnect does not start
 * a second job); watch its `job_progress` messages for the running estimate.
 * @param {SocketClient} socket
 * @param {{samples: number, chunkSamples?: number, seed?: number}} job
 * @returns {Promise<AckMessage>}
 */
export function startDistributedJob(socket, { samples, chunkSamples = 1_000_000, seed = 0 }) {
  return socket.sendReliable({
    type: ClientType.JOB_START,
    id: newId(),
    samples,
    chunk_samples: chunkSamples,
    seed,
  });
}
