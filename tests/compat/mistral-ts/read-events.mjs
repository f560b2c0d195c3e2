#!/usr/bin/env node
// Reads one execution of a StreamingEvents server with Mistral's own TypeScript SDK (@mistralai/mistralai), unchanged:
// the SDK parses every SSE record with its strict zod schemas, so any deviation of our wire format fails here.
//
//   node read-events.mjs <baseUrl> <execId> <count> [--metadata-filters <json>]
//
// Prints one JSON line per event the SDK parsed:
//   {"source":"events", ...}      client.workflows.events.getStreamEvents (the first <count> events, from start_seq=0)
//   {"source":"executions", ...}  client.workflows.executions.stream with eventSource DATABASE (history, then the end)
//   {"source":"list", ...}        client.workflows.events.getWorkflowEvents, following nextCursor until it is null
// With --metadata-filters only the "events" read runs, passing the object as the SDK's metadataFilters.
// With --lifecycle <cancelExecId> the events route is read the way Mistral's documentation consumes it — until the
// execution's terminal WORKFLOW_EXECUTION_* event — then executions.getWorkflowExecution reads its status
//   {"source":"get", ...}
// and executions.cancelWorkflowExecution cancels <cancelExecId>, whose status is read again ({"source":"canceled", ...}).
// Exits non-zero on any SDK error (validation, HTTP, connection) or when the events do not come within a minute.

import { Mistral } from "@mistralai/mistralai";

const [baseUrl, execId, countText, flag, flagValue] = process.argv.slice(2);
const count = Number.parseInt(countText ?? "", 10);
if (!baseUrl || !execId || !(count > 0) || (flag !== undefined && flag !== "--metadata-filters" && flag !== "--lifecycle")) {
  console.error("usage: node read-events.mjs <baseUrl> <execId> <count> [--metadata-filters <json> | --lifecycle <cancelExecId>]");
  process.exit(64);
}

setTimeout(() => {
  console.error(`timed out waiting for ${count} events of ${execId}`);
  process.exit(3);
}, 60_000).unref();

const client = new Mistral({ serverURL: baseUrl.replace(/\/+$/, ""), apiKey: "unused-by-streaming-events" });

function print(source, id, event, brokerSequence) {
  console.log(JSON.stringify({
    source,
    id: id ?? null,
    broker_sequence: brokerSequence ?? null,
    event_type: event.eventType,
    event_id: event.eventId,
    event_timestamp: event.eventTimestamp,
    workflow_exec_id: event.workflowExecId,
    custom_task_id: event.attributes.customTaskId ?? null,
    custom_task_type: event.attributes.customTaskType ?? null,
    task_id: event.attributes.taskId ?? null,
    activity_name: event.attributes.activityName ?? null,
    attempt: event.attributes.attempt ?? null,
  }));
}

/** An SSE message as the SDK yields it: the data-less first record (the retry hint) is skipped; an error record fails. */
function payloadOf(message) {
  if (message.data === undefined) {
    return undefined;
  }

  if ("error" in message.data) {
    throw new Error(`the server sent an error record: ${JSON.stringify(message.data)}`);
  }

  return message.data;
}

async function readEventsRoute(metadataFilters) {
  const request = { workflowExecId: execId, startSeq: 0 };
  if (metadataFilters !== undefined) {
    request.metadataFilters = metadataFilters;
  }

  const stream = await client.workflows.events.getStreamEvents(request);
  let received = 0;
  for await (const message of stream) {
    const payload = payloadOf(message);
    if (payload === undefined) {
      continue;
    }

    if (payload.data.attributes.customTaskType !== undefined && payload.stream !== payload.data.attributes.customTaskType) {
      throw new Error(`stream '${payload.stream}' differs from custom_task_type '${payload.data.attributes.customTaskType}'`);
    }

    print("events", message.id, payload.data, payload.brokerSequence);
    if (++received === count) {
      break;
    }
  }
}

async function readExecutionsRoute() {
  const stream = await client.workflows.executions.stream({ executionId: execId, eventSource: "DATABASE" });
  for await (const message of stream) {
    const payload = payloadOf(message);
    if (payload !== undefined) {
      print("executions", message.id, payload.data, payload.brokerSequence);
    }
  }
}

async function readList() {
  let cursor = undefined;
  for (let page = 0; page < 100; page++) {
    const response = await client.workflows.events.getWorkflowEvents({ workflowExecId: execId, limit: 3, cursor });
    for (const event of response.events) {
      print("list", null, event, null);
    }

    cursor = response.nextCursor ?? undefined;
    if (cursor === undefined) {
      return;
    }
  }

  throw new Error("nextCursor never became null");
}

const WorkflowEnds = new Set(["WORKFLOW_EXECUTION_COMPLETED", "WORKFLOW_EXECUTION_FAILED", "WORKFLOW_EXECUTION_CANCELED"]);

/** Mistral's documented consumer: read until the workflow's terminal event. */
async function readUntilWorkflowEnds() {
  const stream = await client.workflows.events.getStreamEvents({ workflowExecId: execId, startSeq: 0 });
  for await (const message of stream) {
    const payload = payloadOf(message);
    if (payload === undefined) {
      continue;
    }

    print("events", message.id, payload.data, payload.brokerSequence);
    if (WorkflowEnds.has(payload.data.eventType)) {
      break;
    }
  }
}

function printExecution(source, execution) {
  console.log(JSON.stringify({
    source,
    workflow_name: execution.workflowName,
    execution_id: execution.executionId,
    root_execution_id: execution.rootExecutionId,
    status: execution.status,
    result: execution.result ?? null,
    has_end_time: execution.endTime instanceof Date,
  }));
}

async function readLifecycle(cancelExecId) {
  await readUntilWorkflowEnds();
  printExecution("get", await client.workflows.executions.getWorkflowExecution({ executionId: execId }));
  await client.workflows.executions.cancelWorkflowExecution({ executionId: cancelExecId });
  printExecution("canceled", await client.workflows.executions.getWorkflowExecution({ executionId: cancelExecId }));
}

try {
  if (flag === "--lifecycle") {
    await readLifecycle(flagValue);
  } else if (flag === "--metadata-filters") {
    await readEventsRoute(JSON.parse(flagValue));
  } else {
    await readEventsRoute(undefined);
    await readExecutionsRoute();
    await readList();
  }
} catch (error) {
  const detail = typeof error?.pretty === "function" ? error.pretty() : String(error?.stack ?? error);
  console.error(`${error?.name ?? "Error"}: ${detail}`);
  process.exit(1);
}

process.exit(0);
