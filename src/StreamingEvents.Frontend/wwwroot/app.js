// The live page of StreamingEvents: follows one execution over Server-Sent Events and renders its tasks.
// Exactness is checked here too, not only trusted: every event must be lastSequence + 1. An older one is ignored and
// counted as a duplicate; a newer one raises a visible gap warning (the service promises it never happens).
// Test hooks: window.streamingEvents (read-only counters) and stable ids / data-testid attributes in the markup.
'use strict';

(() => {
  const LOG_LIMIT = 500;
  const JSON_PREVIEW_LIMIT = 20000;
  const RETRY_MIN_MS = 1000;
  const RETRY_MAX_MS = 10000;
  const MAX_SERVER_ERRORS = 5;
  // The service's identifier rule (Names.IdentifierRule): checked before following, so a typo is explained at once.
  const IDENTIFIER = /^[A-Za-z0-9_\-.:@=+~]{1,256}$/;

  const WORKFLOW_STATUS = {
    WORKFLOW_EXECUTION_STARTED: 'RUNNING',
    WORKFLOW_EXECUTION_COMPLETED: 'COMPLETED',
    WORKFLOW_EXECUTION_FAILED: 'FAILED',
    WORKFLOW_EXECUTION_CANCELED: 'CANCELED',
  };

  const $ = (id) => document.getElementById(id);
  const ui = {
    connection: $('connection'),
    connectionLabel: document.querySelector('#connection .label'),
    execId: $('exec-id'),
    execStatus: $('exec-status'),
    execStop: $('exec-stop'),
    statLast: $('stat-last'),
    statApplied: $('stat-applied'),
    statDuplicates: $('stat-duplicates'),
    statGaps: $('stat-gaps'),
    statReconnects: $('stat-reconnects'),
    resumed: $('resumed'),
    historyNote: $('history-note'),
    gapWarning: $('gap-warning'),
    streamError: $('stream-error'),
    tasks: $('tasks'),
    tasksEmpty: $('tasks-empty'),
    logBody: $('log-body'),
    streams: $('streams'),
    streamsStatus: $('streams-status'),
    demoForm: $('demo-form'),
    demoRate: $('demo-rate'),
    demoRateSlider: $('demo-rate-slider'),
    demoTokens: $('demo-tokens'),
    demoStart: $('demo-start'),
    demoError: $('demo-error'),
    followError: $('follow-error'),
    followForm: $('follow-form'),
    followExec: $('follow-exec'),
  };

  /** Everything about the execution being followed; replaced as a whole when another one is followed. */
  let follow = newFollow(null);

  function newFollow(exec) {
    return {
      exec,
      // The execution's status from its WORKFLOW_EXECUTION_* events (or GET /v1/workflows/executions/{id}).
      status: null,
      source: null,
      lastSeq: 0,
      received: 0,
      applied: 0,
      duplicates: 0,
      gaps: 0,
      firstGap: null,
      reconnects: 0,
      resumedFrom: null,
      opened: false,
      connectionState: 'idle',
      connectionText: 'not following',
      lastError: null,
      serverErrors: 0,
      retryTimer: 0,
      retryDelay: RETRY_MIN_MS,
      tasks: new Map(),
      dirtyTasks: new Set(),
      pendingLog: [],
      renderScheduled: false,
    };
  }

  // ---------------------------------------------------------------- test hooks
  window.streamingEvents = Object.freeze({
    get execution() { return follow.exec; },
    /** The broker_sequence of the last event applied (0 before any). */
    get lastSequence() { return follow.lastSeq; },
    /** Every event record received, duplicates included. */
    get received() { return follow.received; },
    /** Events applied: each sequence exactly once, in order. */
    get applied() { return follow.applied; },
    /** Events ignored because their broker_sequence was not above lastSequence. */
    get duplicates() { return follow.duplicates; },
    /** Events whose broker_sequence skipped one or more numbers (must stay 0). */
    get gaps() { return follow.gaps; },
    get connectionState() { return follow.connectionState; },
    get connectionText() { return follow.connectionText; },
    get reconnects() { return follow.reconnects; },
    /** The sequence the last reconnection resumed from, or null. */
    get resumedFrom() { return follow.resumedFrom; },
    get lastError() { return follow.lastError; },
    /** The URL the open stream was requested with (its credential is a stream token, never the key), or null. */
    get streamUrl() { return follow.source ? follow.source.url : null; },
    tasks() {
      return [...follow.tasks.values()].map((t) => ({
        id: t.id, type: t.type, status: t.status, message: t.message, updates: t.updates, state: t.state,
      }));
    },
    follow: (exec) => followExecution(exec),
  });

  // ---------------------------------------------------------------- following an execution
  async function followExecution(exec) {
    exec = (exec || '').trim();
    if (!IDENTIFIER.test(exec)) {
      showFormError(ui.followError, `"${exec}" is not an execution id (1-256 letters, digits or _ - . : @ = + ~).`);
      return;
    }

    stopFollowing();
    follow = newFollow(exec);
    const mine = follow;
    resetView(exec);
    const url = new URL(window.location.href);
    url.searchParams.set('exec', exec);
    window.history.replaceState(null, '', url);
    setConnection('connecting', 'connecting');

    // An execution whose oldest events were trimmed by retention starts at its oldest retained one: that is where
    // its history begins, not a gap. An execution that has published nothing yet (404) is followed from 1.
    try {
      const info = await getJson(`/v1/streams/${encodeURIComponent(exec)}`);
      if (follow !== mine) return;
      ui.execId.title = `workflow ${info.workflow_name} · head ${info.head}`;
      rebase(info.oldest_retained);
    } catch (error) {
      if (follow !== mine) return;
      if (error.status !== 404) {
        mine.lastError = error.message;
      }
    }

    open(mine);
  }

  function rebase(oldestRetained) {
    if (follow.applied === 0 && oldestRetained > 1) {
      follow.lastSeq = oldestRetained - 1;
      ui.historyNote.textContent = `Events before #${oldestRetained} have expired (retention); the history shown starts there.`;
      ui.historyNote.hidden = false;
    }
  }

  function stopFollowing() {
    if (follow.source) {
      follow.source.close();
      follow.source = null;
    }

    clearTimeout(follow.retryTimer);
  }

  async function open(mine) {
    // start_seq is inclusive: the next expected sequence. EventSource's own reconnections send Last-Event-ID instead.
    const from = mine.lastSeq + 1;
    let url;
    try {
      url = await withStreamToken(mine.exec, `/v1/workflows/events/stream?workflow_exec_id=${encodeURIComponent(mine.exec)}&start_seq=${from}`);
    } catch {
      // No token (the service is unreachable, or the key was refused): try again later.
      if (follow === mine) scheduleReopen(mine);
      return;
    }

    if (follow !== mine || mine.source) return;
    const source = new EventSource(url);
    mine.source = source;
    const current = () => follow === mine && mine.source === source;

    source.onopen = () => {
      if (!current()) return;
      mine.retryDelay = RETRY_MIN_MS;
      if (mine.opened) {
        mine.reconnects += 1;
        mine.resumedFrom = mine.lastSeq + 1;
        const text = `reconnected, resumed from ${mine.resumedFrom}`;
        setConnection('live', text);
        ui.resumed.textContent = text;
        ui.resumed.title = `${mine.reconnects} reconnection(s)`;
        ui.resumed.hidden = false;
      } else {
        setConnection('live', 'live');
      }

      mine.opened = true;
      scheduleRender();
    };

    source.onmessage = (message) => {
      if (current()) onRecord(message);
    };

    source.addEventListener('error', (event) => {
      if (!current()) return;
      if (event instanceof MessageEvent) {
        // An `event: error` record: the service failed after the stream started, and ends the stream.
        onServerError(mine, source, event.data);
      } else if (source.readyState === EventSource.CONNECTING) {
        // The connection dropped; the browser reconnects by itself with Last-Event-ID.
        setConnection('reconnecting', 'reconnecting…');
      } else {
        // The browser gave up (an answer other than 200 text/event-stream): reopen from lastSequence + 1 ourselves.
        source.close();
        mine.source = null;
        scheduleReopen(mine);
      }
    });
  }

  function scheduleReopen(mine) {
    setConnection('reconnecting', 'reconnecting…');
    clearTimeout(mine.retryTimer);
    const delay = mine.retryDelay;
    mine.retryDelay = Math.min(mine.retryDelay * 2, RETRY_MAX_MS);
    mine.retryTimer = setTimeout(async () => {
      if (follow !== mine) return;
      try {
        const info = await getJson(`/v1/streams/${encodeURIComponent(mine.exec)}`);
        if (follow !== mine) return;
        rebase(info.oldest_retained);
        if (info.oldest_retained > mine.lastSeq + 1) {
          const message = `Events ${mine.lastSeq + 1}–${info.oldest_retained - 1} expired before this page read them: it cannot resume exactly.`;
          setConnection('error', 'stopped: history expired');
          showStreamError(message);
          return;
        }
      } catch {
        // Unknown yet (404) or the service is unreachable: the stream request below tells, and we retry again.
      }

      if (follow === mine) open(mine);
    }, delay);
  }

  function onServerError(mine, source, data) {
    let detail = data;
    try {
      const parsed = JSON.parse(data);
      detail = `${parsed.error} (${parsed.reason})`;
    } catch {
      // Not JSON: show it as it came.
    }

    mine.serverErrors += 1;
    showStreamError(`The service reported an error on the stream: ${detail}`);
    if (mine.serverErrors >= MAX_SERVER_ERRORS) {
      source.close();
      mine.source = null;
      setConnection('error', 'stopped after repeated errors');
    }
  }

  function onRecord(message) {
    const mine = follow;
    let envelope;
    try {
      envelope = JSON.parse(message.data);
    } catch {
      showStreamError(`An event could not be read (id ${message.lastEventId}).`);
      return;
    }

    const seq = envelope.broker_sequence;
    mine.received += 1;
    if (!Number.isSafeInteger(seq)) {
      showStreamError(`An event has no usable broker_sequence (id ${message.lastEventId}).`);
      return;
    }

    if (seq <= mine.lastSeq) {
      mine.duplicates += 1;
      scheduleRender();
      return;
    }

    if (seq !== mine.lastSeq + 1) {
      mine.gaps += 1;
      mine.firstGap ??= { expected: mine.lastSeq + 1, got: seq };
      ui.gapWarning.textContent =
        `Gap: expected event #${mine.lastSeq + 1} but received #${seq} (${mine.gaps} gap(s) so far). Events were lost in delivery.`;
      ui.gapWarning.hidden = false;
    }

    mine.lastSeq = seq;
    mine.applied += 1;
    mine.serverErrors = 0;
    applyEvent(mine, envelope);
    mine.pendingLog.push(envelope);
    if (mine.pendingLog.length > LOG_LIMIT) {
      mine.pendingLog.splice(0, mine.pendingLog.length - LOG_LIMIT);
    }

    scheduleRender();
  }

  // ---------------------------------------------------------------- task state
  function applyEvent(mine, envelope) {
    const event = envelope.data || {};
    const type = event.event_type || '';
    const attributes = event.attributes || {};
    const lifecycle = WORKFLOW_STATUS[type];
    if (lifecycle) {
      mine.status = lifecycle;
      return;
    }

    if (!type.startsWith('CUSTOM_TASK_') || !attributes.custom_task_id) return;

    let task = mine.tasks.get(attributes.custom_task_id);
    if (!task) {
      task = {
        id: attributes.custom_task_id,
        type: attributes.custom_task_type || envelope.stream,
        status: 'running',
        state: undefined,
        message: null,
        stateError: null,
        updates: 0,
        firstSeq: envelope.broker_sequence,
        lastSeq: 0,
        element: null,
        kind: null,
      };
      mine.tasks.set(task.id, task);
    }

    task.updates += 1;
    task.lastSeq = envelope.broker_sequence;
    switch (type) {
      case 'CUSTOM_TASK_STARTED':
      case 'CUSTOM_TASK_IN_PROGRESS':
        applyPayload(task, attributes.payload);
        break;
      case 'CUSTOM_TASK_COMPLETED':
        applyPayload(task, attributes.payload);
        task.status = 'completed';
        break;
      case 'CUSTOM_TASK_FAILED':
        task.status = 'failed';
        task.message = (attributes.failure && attributes.failure.message) || 'failed';
        break;
      case 'CUSTOM_TASK_TIMED_OUT':
        task.status = 'timed_out';
        task.message = attributes.timeout_type ? `timed out (${attributes.timeout_type})` : 'timed out';
        break;
      case 'CUSTOM_TASK_CANCELED':
        task.status = 'canceled';
        task.message = attributes.reason ? `canceled: ${attributes.reason}` : 'canceled';
        break;
      default:
        break;
    }

    mine.dirtyTasks.add(task);
  }

  function applyPayload(task, payload) {
    if (!payload) return;
    if (payload.type === 'json_patch') {
      try {
        task.state = applyPatch(task.state, payload.value);
        task.stateError = null;
      } catch (error) {
        task.stateError = `A patch could not be applied: ${error.message}`;
      }
    } else {
      task.state = payload.value;
      task.stateError = null;
    }
  }

  /** RFC 6902 add / replace / remove (with "-" for the end of an array) and Mistral's string `append`. */
  function applyPatch(document, operations) {
    if (!Array.isArray(operations)) throw new Error('a json_patch payload is an array of operations');
    let root = structuredClone(document);
    for (const operation of operations) {
      root = applyOperation(root, operation);
    }

    return root;
  }

  function applyOperation(root, { op, path, value }) {
    const appendTo = (target) => {
      if (typeof target !== 'string' || typeof value !== 'string') throw new Error(`'append' needs a string at '${path}'`);
      return target + value;
    };

    if (typeof path !== 'string' || (path !== '' && path[0] !== '/')) throw new Error(`'${path}' is not a JSON pointer`);
    if (path === '') {
      if (op === 'add' || op === 'replace') return structuredClone(value);
      if (op === 'remove') return null;
      if (op === 'append') return appendTo(root);
      throw new Error(`unknown op '${op}'`);
    }

    const tokens = path.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
    let parent = root;
    for (const token of tokens.slice(0, -1)) {
      parent = child(parent, token);
      if (parent === undefined || parent === null) throw new Error(`path '${path}' does not exist`);
    }

    const last = tokens[tokens.length - 1];
    if (Array.isArray(parent)) {
      if (op === 'add' && last === '-') {
        parent.push(structuredClone(value));
        return root;
      }

      if (!/^(0|[1-9][0-9]*)$/.test(last)) throw new Error(`'${last}' in '${path}' is not an array index`);
      const index = Number(last);
      if (op === 'add' && index <= parent.length) parent.splice(index, 0, structuredClone(value));
      else if (index >= parent.length) throw new Error(`index ${index} of '${path}' is out of range`);
      else if (op === 'remove') parent.splice(index, 1);
      else if (op === 'replace') parent[index] = structuredClone(value);
      else if (op === 'append') parent[index] = appendTo(parent[index]);
      else throw new Error(`unknown op '${op}'`);
    } else if (parent !== null && typeof parent === 'object') {
      const exists = Object.hasOwn(parent, last);
      if (op === 'add') parent[last] = structuredClone(value);
      else if (!exists) throw new Error(`path '${path}' does not exist`);
      else if (op === 'replace') parent[last] = structuredClone(value);
      else if (op === 'remove') delete parent[last];
      else if (op === 'append') parent[last] = appendTo(parent[last]);
      else throw new Error(`unknown op '${op}'`);
    } else {
      throw new Error(`the parent of '${path}' is not an object or array`);
    }

    return root;
  }

  function child(node, token) {
    if (Array.isArray(node)) return /^(0|[1-9][0-9]*)$/.test(token) ? node[Number(token)] : undefined;
    if (node !== null && typeof node === 'object' && Object.hasOwn(node, token)) return node[token];
    return undefined;
  }

  // ---------------------------------------------------------------- rendering (batched per frame)
  function scheduleRender() {
    if (follow.renderScheduled) return;
    follow.renderScheduled = true;
    const mine = follow;
    const run = () => render(mine);
    if (document.hidden) setTimeout(run, 250);
    else requestAnimationFrame(run);
  }

  function render(mine) {
    mine.renderScheduled = false;
    if (follow !== mine) return;
    ui.statLast.textContent = String(mine.lastSeq);
    ui.statApplied.textContent = String(mine.applied);
    ui.statDuplicates.textContent = String(mine.duplicates);
    ui.statGaps.textContent = String(mine.gaps);
    ui.statGaps.classList.toggle('bad', mine.gaps > 0);
    ui.statReconnects.textContent = String(mine.reconnects);
    ui.execStatus.textContent = mine.status || '—';
    ui.execStatus.dataset.status = mine.status || '';
    ui.execStop.hidden = mine.status !== 'RUNNING';
    for (const task of mine.dirtyTasks) renderTask(task);
    mine.dirtyTasks.clear();
    renderLog(mine);
  }

  function kindOf(state) {
    if (state && typeof state === 'object' && !Array.isArray(state)) {
      if (Array.isArray(state.tokens) || typeof state.text === 'string') return 'text';
      if (typeof state.progress_total === 'number') return 'progress';
    }

    return 'json';
  }

  function renderTask(task) {
    if (!task.element) {
      task.element = createTaskElement(task);
      ui.tasks.append(task.element);
      ui.tasksEmpty.hidden = true;
    }

    const element = task.element;
    element.dataset.status = task.status;
    const status = element.querySelector('.status');
    status.textContent = task.status === 'timed_out' ? 'timed out' : task.status;
    status.className = `status ${task.status}`;

    const kind = task.state === undefined ? 'none' : kindOf(task.state);
    const body = element.querySelector('.body');
    if (task.kind !== kind) {
      task.kind = kind;
      element.dataset.kind = kind;
      body.replaceChildren(createBody(kind));
    }

    if (kind === 'text') {
      const state = task.state;
      body.querySelector('.text').textContent = Array.isArray(state.tokens) ? state.tokens.join('') : state.text;
    } else if (kind === 'progress') {
      renderProgress(body, task.state);
    } else if (kind === 'json') {
      const json = JSON.stringify(task.state, null, 2) ?? 'null';
      body.querySelector('.json').textContent = json.length > JSON_PREVIEW_LIMIT ? `${json.slice(0, JSON_PREVIEW_LIMIT)}\n…` : json;
    }

    const failure = element.querySelector('.failure');
    const problem = task.message ?? task.stateError;
    failure.hidden = !problem;
    failure.textContent = problem ?? '';
    failure.classList.toggle('canceled', task.status === 'canceled' || task.status === 'timed_out');
    element.querySelector('.meta').textContent =
      `${task.updates} event${task.updates === 1 ? '' : 's'} · #${task.firstSeq}–#${task.lastSeq}`;
  }

  function createTaskElement(task) {
    const element = document.createElement('article');
    element.className = 'task card';
    element.id = `task-${task.id}`;
    element.dataset.testid = 'task';
    element.dataset.taskId = task.id;
    element.dataset.taskType = task.type;
    const head = document.createElement('header');
    head.className = 'task-head';
    head.append(
      span('type', task.type),
      span('task-id', task.id),
      span('status', task.status, 'task-status'));
    const body = document.createElement('div');
    body.className = 'body';
    const failure = document.createElement('p');
    failure.className = 'failure';
    failure.dataset.testid = 'task-failure';
    failure.hidden = true;
    const meta = document.createElement('footer');
    meta.className = 'meta';
    element.append(head, body, failure, meta);
    return element;
  }

  function createBody(kind) {
    if (kind === 'text') {
      const text = document.createElement('div');
      text.className = 'text';
      text.dataset.testid = 'task-text';
      return text;
    }

    if (kind === 'progress') {
      const wrapper = document.createElement('div');
      wrapper.className = 'progress';
      const bar = document.createElement('div');
      bar.className = 'bar';
      bar.dataset.testid = 'task-progress';
      bar.setAttribute('role', 'progressbar');
      bar.setAttribute('aria-valuemin', '0');
      const fill = document.createElement('div');
      fill.className = 'fill';
      bar.append(fill);
      const line = document.createElement('div');
      line.className = 'progress-line';
      line.append(span('progress-count', '', 'progress-count'), span('progress-label', '', 'progress-label'));
      wrapper.append(bar, line);
      return wrapper;
    }

    if (kind === 'json') {
      const pre = document.createElement('pre');
      pre.className = 'json';
      pre.dataset.testid = 'task-json';
      return pre;
    }

    return span('muted', 'no state yet');
  }

  function renderProgress(body, state) {
    const total = Math.max(0, Number(state.progress_total) || 0);
    const index = Math.max(0, Number(state.progress_idx) || 0);
    const ratio = total > 0 ? Math.min(1, index / total) : 0;
    const bar = body.querySelector('.bar');
    bar.setAttribute('aria-valuemax', String(total));
    bar.setAttribute('aria-valuenow', String(index));
    bar.dataset.value = String(index);
    bar.dataset.total = String(total);
    bar.querySelector('.fill').style.width = `${(ratio * 100).toFixed(2)}%`;
    body.querySelector('.progress-count').textContent = `${index} / ${total} (${Math.round(ratio * 100)}%)`;
    body.querySelector('.progress-label').textContent = progressLabel(state);
  }

  function progressLabel(state) {
    if (typeof state.label === 'string') return state.label;
    if (typeof state.message === 'string') return state.message;
    if (Array.isArray(state.processed_words) && state.processed_words.length > 0) {
      const words = state.processed_words.join(' ');
      return words.length > 120 ? `…${words.slice(-120)}` : words;
    }

    return '';
  }

  function renderLog(mine) {
    if (mine.pendingLog.length === 0) return;
    const fragment = document.createDocumentFragment();
    for (let i = mine.pendingLog.length - 1; i >= 0; i--) fragment.append(logRow(mine.pendingLog[i]));
    mine.pendingLog = [];
    ui.logBody.prepend(fragment);
    while (ui.logBody.childElementCount > LOG_LIMIT) ui.logBody.lastElementChild.remove();
  }

  function logRow(envelope) {
    const event = envelope.data || {};
    const attributes = event.attributes || {};
    const row = document.createElement('tr');
    row.dataset.seq = String(envelope.broker_sequence);
    row.dataset.testid = 'log-row';
    const type = event.event_type || '?';
    row.className = `ev-${type.replace(/^CUSTOM_TASK_/, '').toLowerCase()}`;
    for (const [cls, text] of [
      ['seq', String(envelope.broker_sequence)],
      ['time', formatTime(envelope.timestamp)],
      ['stream', envelope.stream || ''],
      ['event', type],
      ['task', attributes.custom_task_id || ''],
    ]) {
      const cell = document.createElement('td');
      cell.className = cls;
      cell.textContent = text;
      row.append(cell);
    }

    return row;
  }

  // ---------------------------------------------------------------- view helpers
  function resetView(exec) {
    ui.execId.textContent = exec;
    ui.execId.title = '';
    ui.tasks.replaceChildren();
    ui.tasksEmpty.hidden = false;
    ui.logBody.replaceChildren();
    for (const note of [ui.resumed, ui.historyNote, ui.gapWarning, ui.streamError]) {
      note.hidden = true;
      note.textContent = '';
    }

    render(follow);
    markActiveStream();
  }

  function setConnection(state, text) {
    follow.connectionState = state;
    follow.connectionText = text;
    ui.connection.dataset.state = state;
    ui.connectionLabel.textContent = text;
  }

  function showStreamError(message) {
    follow.lastError = message;
    ui.streamError.textContent = message;
    ui.streamError.hidden = false;
  }

  function showFormError(element, message) {
    element.textContent = message;
    element.hidden = false;
  }

  function span(className, text, testid) {
    const element = document.createElement('span');
    element.className = className;
    element.textContent = text;
    if (testid) element.dataset.testid = testid;
    return element;
  }

  function pad(n, width = 2) {
    return String(n).padStart(width, '0');
  }

  /** The envelope's ISO timestamp as local time with milliseconds (never event_timestamp: ns exceed 2^53). */
  function formatTime(iso) {
    if (!iso) return '';
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return String(iso);
    return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
  }

  function formatAgo(iso) {
    if (!iso) return '';
    const seconds = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
    if (!Number.isFinite(seconds)) return '';
    if (seconds < 60) return `${Math.max(0, seconds)}s ago`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
    if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
    return new Date(iso).toLocaleDateString();
  }

  // ---------------------------------------------------------------- API key
  // Without configured keys the service needs none. With keys, a 401 asks for one once; it is kept for this tab only and
  // sent in a header. EventSource cannot send headers, so a stream carries a short-lived token for its one execution,
  // minted with the key, as access_token: never the key itself, which a URL would leave in logs and history. When the
  // token expires, the browser's reconnection is refused and the page opens the stream again with a new one.
  const API_KEY_STORAGE = 'streaming-events.api-key';
  const fromUrl = new URLSearchParams(location.search).get('api_key');
  if (fromUrl) {
    // Kept for this tab, and taken out of the address bar and history at once.
    sessionStorage.setItem(API_KEY_STORAGE, fromUrl);
    const address = new URL(location.href);
    address.searchParams.delete('api_key');
    window.history.replaceState(window.history.state, '', address);
  }

  function apiKey() {
    return sessionStorage.getItem(API_KEY_STORAGE);
  }

  async function withStreamToken(exec, url) {
    if (!apiKey()) return url;
    const minted = await getJson('/v1/stream-tokens', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ workflow_exec_id: exec }),
    });
    return `${url}${url.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(minted.token)}`;
  }

  async function getJson(path, init, asked) {
    const key = apiKey();
    const headers = { Accept: 'application/json', ...(init && init.headers), ...(key ? { Authorization: `Bearer ${key}` } : {}) };
    const response = await fetch(path, { ...init, headers });
    if (response.status === 401 && !asked) {
      const entered = window.prompt('This service needs an API key:');
      if (entered) {
        sessionStorage.setItem(API_KEY_STORAGE, entered.trim());
        return getJson(path, init, true);
      }
    }

    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const error = new Error((body && (body.detail || body.title)) || `${response.status} ${response.statusText}`);
      error.status = response.status;
      throw error;
    }

    return body;
  }

  // ---------------------------------------------------------------- recent executions
  async function loadStreams() {
    ui.streamsStatus.textContent = 'loading…';
    try {
      const list = await getJson('/v1/streams?limit=50');
      const items = list.streams.map((stream) => {
        const item = document.createElement('li');
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'stream';
        button.dataset.exec = stream.workflow_exec_id;
        button.dataset.testid = 'stream-item';
        const meta = `${stream.workflow_name} · #${stream.head} · ${stream.open_tasks}/${stream.task_count} open · ${formatAgo(stream.last_event_at)}`;
        button.append(span('stream-id', stream.workflow_exec_id), span('stream-meta', meta));
        button.title = stream.workflow_exec_id;
        button.addEventListener('click', () => followExecution(stream.workflow_exec_id));
        item.append(button);
        return item;
      });
      ui.streams.replaceChildren(...items);
      ui.streamsStatus.textContent = items.length === 0 ? 'No execution has published yet.' : `${items.length} shown, newest first · ${formatTime(new Date().toISOString())}`;
      markActiveStream();
    } catch (error) {
      ui.streamsStatus.textContent = `Could not load: ${error.message}`;
    }
  }

  function markActiveStream() {
    for (const button of ui.streams.querySelectorAll('button.stream')) {
      button.classList.toggle('active', button.dataset.exec === follow.exec);
    }
  }

  // ---------------------------------------------------------------- forms
  ui.demoRateSlider.addEventListener('input', () => { ui.demoRate.value = ui.demoRateSlider.value; });
  ui.demoRate.addEventListener('input', () => { ui.demoRateSlider.value = ui.demoRate.value; });

  ui.demoForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    ui.demoError.hidden = true;
    const rate = Number(ui.demoRate.value);
    const tokens = Number(ui.demoTokens.value);
    ui.demoStart.disabled = true;
    try {
      const started = await getJson('/v1/demo', {
        method: 'POST',
        headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
        body: JSON.stringify({ tokens_per_second: rate, tokens }),
      });
      await followExecution(started.workflow_exec_id);
      loadStreams();
    } catch (error) {
      showFormError(ui.demoError, `The demo did not start: ${error.message}`);
    } finally {
      ui.demoStart.disabled = false;
    }
  });

  ui.followForm.addEventListener('submit', (event) => {
    event.preventDefault();
    ui.followError.hidden = true;
    followExecution(ui.followExec.value);
  });

  $('streams-refresh').addEventListener('click', loadStreams);

  // Stop: cancels the execution; its producers' cancellation tokens fire, and the stream shows the CANCELED events.
  ui.execStop.addEventListener('click', async () => {
    const mine = follow;
    if (!mine.exec) return;
    ui.execStop.disabled = true;
    try {
      await getJson(`/v1/workflows/executions/${encodeURIComponent(mine.exec)}/cancel`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ reason: 'stopped from the page' }),
      });
    } catch (error) {
      showStreamError(`Stop failed: ${error.message}`);
    } finally {
      ui.execStop.disabled = false;
    }
  });

  const initial = new URLSearchParams(window.location.search).get('exec');
  if (initial) {
    ui.followExec.value = initial;
    followExecution(initial);
  }

  loadStreams();
})();
