// What happens to a finished run's result: it leaves the page only when the person shares that
// task's results (share-settings.js), as a `result` message the socket client keeps and resends
// until the server acknowledges it, across reconnects.

import { ClientType } from "../socket/protocol.js";
import { newId } from "../socket/client.js";

/** @typedef {import("../run/run-controller.js").RunRecord} RunRecord */
/** @typedef {import("../run/task-form.js").TaskSchema} TaskSchema */
/** @typedef {import("../socket/client.js").SocketClient} SocketClient */
/** @typedef {import("../socket/protocol.js").ResultMessage} ResultMessage */
/** @typedef {import("../socket/protocol.js").StoredResult} StoredResult */
/** @typedef {import("../socket/protocol.js").JsonValue} JsonValue */
/** @typedef {import("./share-settings.js").ShareSettings} ShareSettings */
/** @typedef {Pick<StoredResult, "task" | "duration_ms" | "client_id" | "result">} SharedResult */

/**
 * What a result looks like on the wire: images are summarized, the server stores JSON.
 * @param {RunRecord} record
 * @returns {JsonValue}
 */
export function shareableResult(record) {
  return record.value instanceof ArrayBuffer ? { bytes: record.value.byteLength } : record.value;
}

export class ResultSharing {
  /**
   * @param {{settings: ShareSettings, socket: SocketClient, onShared: (result: SharedResult) => void}} parts
   *   `onShared`: called with the result once the server has acknowledged it
   */
  constructor(parts) {
    this.parts = parts;
  }

  /**
   * Send a finished run's result, if it succeeded and the person shares this task's results.
   * @param {RunRecord} record
   * @param {TaskSchema | undefined} task  the task's schema (undefined: not one the form knows)
   */
  offer(record, task) {
    const { settings, socket, onShared } = this.parts;
    if (!record.ok || !task || !settings.allows(task)) return;
    /** @type {ResultMessage} */
    const message = {
      type: ClientType.RESULT,
      id: newId(),
      task: record.task,
      params: /** @type {Record<string, JsonValue>} */ (record.params),
      result: shareableResult(record),
      duration_ms: record.durationMs,
    };
    settings.sent(message);
    socket
      .sendReliable(message)
      .then(() => onShared({ ...message, client_id: socket.clientId ?? "" }))
      .catch(() => {});
  }
}
