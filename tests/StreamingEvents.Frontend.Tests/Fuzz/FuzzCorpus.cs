using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace StreamingEvents.Frontend.Tests.Fuzz;

/// <summary>The routes, as counted in the report.</summary>
internal static class Routes
{
    public const string EventsStream = "GET /v1/workflows/events/stream";
    public const string ExecutionStream = "GET /v1/workflows/executions/{execution_id}/stream";
    public const string EventsList = "GET /v1/workflows/events/list";
    public const string CreateTask = "POST /v1/tasks";
    public const string TaskState = "POST /v1/tasks/{task_id}/state";
    public const string TaskComplete = "POST /v1/tasks/{task_id}/complete";
    public const string TaskFail = "POST /v1/tasks/{task_id}/fail";
    public const string TaskCancel = "POST /v1/tasks/{task_id}/cancel";
    public const string GetTask = "GET /v1/tasks/{task_id}";
    public const string ListStreams = "GET /v1/streams";
    public const string GetStream = "GET /v1/streams/{workflow_exec_id}";
    public const string Demo = "POST /v1/demo";
    public const string Unknown = "unknown routes, wrong methods";

    public static readonly string[] All =
        [EventsStream, ExecutionStream, EventsList, CreateTask, TaskState, TaskComplete, TaskFail, TaskCancel, GetTask, ListStreams, GetStream, Demo, Unknown];

    public static readonly string[] Sse = [EventsStream, ExecutionStream];
}

/// <summary>What the fuzzer aims at besides junk: the known execution and its tasks, ids it creates, real cursors.</summary>
internal sealed record FuzzTargets(
    string KnownExec,
    string KnownWorkflow,
    string KnownRun,
    IReadOnlyList<string> VictimTasks,
    IReadOnlyList<string> PoolTasks,
    IReadOnlyList<string> PoolExecs,
    IReadOnlyList<string> Cursors,
    IReadOnlyList<string> ListCursors);

/// <summary>
/// Makes fuzz input <c>i</c> of a run from the seed and <c>i</c> alone (its own <see cref="Random"/>), so any input can be
/// made again. Each input is one request at one route: random and malformed ids, query values, resume ids, JSON bodies,
/// content types, sizes, methods and paths, with what it must be answered with.
/// </summary>
internal sealed class FuzzCorpus(int seed, FuzzTargets targets)
{
    private static readonly string[] EventTypes =
    [
        "CUSTOM_TASK_STARTED", "CUSTOM_TASK_IN_PROGRESS", "CUSTOM_TASK_COMPLETED", "CUSTOM_TASK_FAILED", "CUSTOM_TASK_TIMED_OUT", "CUSTOM_TASK_CANCELED",
        "WORKFLOW_EXECUTION_STARTED", "WORKFLOW_EXECUTION_COMPLETED", "ACTIVITY_TASK_STARTED", "WORKFLOW_TASK_FAILED",
    ];

    private static readonly string[] NotJsonContentTypes =
        ["text/plain", "application/xml", "text/xml", "multipart/form-data; boundary=fuzz", "application/x-www-form-urlencoded", "application/octet-stream", "text/html"];

    private readonly string[] _streamNames = ["token", "progress", "search_result"];

    private readonly string[] _execs = [targets.KnownExec, .. targets.PoolExecs];

    private readonly string[] _tasks = [.. targets.VictimTasks, .. targets.PoolTasks];

    public static int Mix(int seed, int index)
    {
        // splitmix64 of (seed, index): independent, well-spread seeds per input.
        var z = ((ulong)(uint)seed << 32 | (uint)index) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)(z ^ (z >> 31));
    }

    public FuzzRequest Create(int index)
    {
        var h = new Hostile(new Random(Mix(seed, index)));
        var roll = h.Random.Next(1000);
        return roll switch
        {
            < 170 => EventsStream(index, h),
            < 260 => ExecutionStream(index, h),
            < 330 => EventsList(index, h),
            < 450 => CreateTask(index, h),
            < 570 => TaskState(index, h),
            < 615 => TaskFinish(index, h, Routes.TaskComplete),
            < 655 => TaskFinish(index, h, Routes.TaskFail),
            < 695 => TaskFinish(index, h, Routes.TaskCancel),
            < 745 => GetTask(index, h),
            < 790 => ListStreams(index, h),
            < 835 => GetStream(index, h),
            < 860 => Demo(index, h),
            < 930 => Unknown(index, h),
            _ => Transport(index, h),
        };
    }

    // ---- SSE ----

    private FuzzRequest EventsStream(int index, Hostile h)
    {
        var target = new Target("/v1/workflows/events/stream");
        var mistralDefaults = h.Chance(0.3);
        bool? single = false;
        foreach (var name in new[] { "scope", "activity_name", "activity_id", "workflow_name", "workflow_exec_id", "root_workflow_exec_id", "parent_workflow_exec_id", "stream" })
        {
            if (mistralDefaults && h.Chance(0.7))
            {
                target.Param(name, new UrlValue("*"u8.ToArray(), "*", false, false));
                continue;
            }

            if (!h.Chance(0.35))
            {
                continue;
            }

            var value = name switch
            {
                "scope" => Choice(h, ["workflow", "activity", "*", "", "Workflow", "tool", "activity,workflow"], v => v is not ("" or "*" or "workflow" or "activity")),
                "activity_name" or "workflow_name" => h.Url(ValueKind.WorkflowName, 0.5, known: [targets.KnownWorkflow, "demo"]),
                "stream" => h.Url(ValueKind.StreamName, 0.6, known: _streamNames),
                "workflow_exec_id" => h.Url(ValueKind.Identifier, 0.6, known: _execs),
                _ => h.Url(ValueKind.Identifier, 0.5, known: _execs),
            };
            if (name == "workflow_exec_id")
            {
                single = value.HttpLevel ? null : !value.Invalid && value.Text is not ("" or "*");
            }

            target.Param(name, value, Repeat(h, name, target));
        }

        if (mistralDefaults || h.Chance(0.35))
        {
            target.Param("start_seq", h.Number(["0", "1", "5", "9223372036854775806"]), Repeat(h, "start_seq", target));
        }

        if (h.Chance(0.2))
        {
            var (json, invalid) = MetadataFilters(h);
            target.Param("metadata_filters", new UrlValue(Hostile.PercentEncode(json), json, invalid, json.Length > 2_000), Repeat(h, "metadata_filters", target));
        }

        if (h.Chance(0.2))
        {
            // Repeated and/or comma-separated; "*" anywhere means any type.
            var names = new List<string>();
            var count = h.Between(1, 4);
            for (var i = 0; i < count; i++)
            {
                var type = h.Random.Next(10) switch
                {
                    < 5 => h.Pick(EventTypes),
                    5 => string.Join(',', EventTypes.Take(h.Between(1, 4))),
                    6 => "*",
                    7 => h.One("custom_task_started", "CUSTOM_TASK", "NOT_A_TYPE", "CUSTOM_TASK_STARTED,,", " CUSTOM_TASK_STARTED ", "0", "-1", ""),
                    _ => h.HostileText(),
                };
                type = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(type));
                names.AddRange(type.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                var bytes = Hostile.PercentEncode(type);
                target.Param("workflow_event_types", new UrlValue(bytes, type, false, bytes.Length > 7_000), null);
            }

            if (names.Count > 0 && !names.Contains("*") && names.FirstOrDefault(n => !StreamingEvents.EventTypes.TryParse(n, out _)) is { } unknown)
            {
                target.Invalid.Add($"workflow_event_types '{unknown}' is not an event type");
            }
        }

        if (h.Chance(0.15))
        {
            target.Param("state_mode", Choice(h, ["as_published", "full", "", "FULL", "whole", "1"], v => v is not ("" or "as_published" or "full")), Repeat(h, "state_mode", target));
        }

        if (h.Chance(0.1))
        {
            target.Param("namespace", Namespace(h), null);
        }

        if (h.Chance(0.08))
        {
            target.Param("access_token", h.Url(ValueKind.Free), null);
        }

        if (h.Chance(0.1))
        {
            // Unknown parameters are exploded metadata filters (Mistral's TypeScript SDK).
            var name = h.HostileText();
            target.Param(Hostile.PercentEncode(name), h.Url(ValueKind.Free), null);
        }

        if (h.Chance(0.04))
        {
            target.RawQuery(h.One("&&&", "=", "==x", "a", "&=&", "start_seq", "scope&scope", "%", "%zz=1", "?", ";", "a=b=c", "workflow_exec_id=%E0%80%AF"));
        }

        var request = Sse(index, Routes.EventsStream, "filters", target, h);
        if (h.Chance(0.3))
        {
            var id = h.ResumeId(targets.Cursors);
            var (bytes, httpLevel) = Hostile.HeaderValue(id);
            request.Headers.Add(("Last-Event-ID", bytes));
            request.HttpLevel |= httpLevel;

            // An earlier header that breaks HTTP (a bare LF in X-Namespace) can end the header block before this one.
            var seen = id.Trim(' ', '\t');
            if (!request.HttpLevel && single is true && Hostile.IsInvalidSequenceId(seen))
            {
                request.MustRefuse($"Last-Event-ID '{seen}' is not a broker_sequence of a single-execution stream");
            }
            else if (!request.HttpLevel && single is false && Hostile.IsInvalidCursor(seen))
            {
                request.MustRefuse($"Last-Event-ID '{seen}' is not a cursor of a wildcard stream");
            }
        }

        return request;
    }

    private FuzzRequest ExecutionStream(int index, Hostile h)
    {
        var target = new Target("/v1/workflows/executions/");
        target.Segment(h.Url(ValueKind.Identifier, 0.65, emptyIsAbsent: false, known: _execs), "execution_id").Path("/stream");
        var queryResume = false;
        if (h.Chance(0.5))
        {
            target.Param("event_source", Choice(h, ["DATABASE", "LIVE", "HYBRID", "database", "Hybrid", "", "DISK", "lıve", "LIVE,DATABASE"],
                v => v.Length > 0 && v.ToUpperInvariant() is not ("DATABASE" or "LIVE" or "HYBRID")), null);
        }

        if (h.Chance(0.3))
        {
            var id = h.ResumeId(targets.Cursors);
            var value = new UrlValue(Hostile.PercentEncode(id), id, Hostile.IsInvalidSequenceId(id), false);
            target.Param("last_event_id", value, null);
            queryResume = id.Length > 0;
        }

        if (h.Chance(0.1))
        {
            target.Param("namespace", Namespace(h), null);
        }

        var request = Sse(index, Routes.ExecutionStream, "id, event_source, resume", target, h);
        if (h.Chance(0.3))
        {
            var id = h.ResumeId(targets.Cursors);
            var (bytes, httpLevel) = Hostile.HeaderValue(id);
            request.Headers.Add(("Last-Event-ID", bytes));
            request.HttpLevel |= httpLevel;
            if (!request.HttpLevel && !queryResume && Hostile.IsInvalidSequenceId(id.Trim(' ', '\t')))
            {
                request.MustRefuse($"Last-Event-ID '{id}' is not a broker_sequence");
            }
        }

        return request;
    }

    /// <summary>An SSE request: usually <c>Accept: text/event-stream</c>; a type the route cannot answer must be 406.</summary>
    private static FuzzRequest Sse(int index, string route, string category, Target target, Hostile h)
    {
        var request = target.ToRequest(index, route, category, "GET", isSse: true);
        NamespaceHeader(request, target, h);
        var roll = h.Random.Next(100);
        if (roll < 76)
        {
            request.Headers.Add(("Accept", "text/event-stream"u8.ToArray()));
        }
        else if (roll < 88)
        {
            var accept = h.One("application/json", "text/html", "application/xml", "application/problem+json", "image/png");
            request.Headers.Add(("Accept", Encoding.ASCII.GetBytes(accept)));
            request.MustBe($"Accept: {accept} on an SSE route", target.RouteMayChange ? [406, 400, 404] : [406]);
            if (target.RouteMayChange)
            {
                request.Expect = Expectation.Refusal;
            }
        }
        else if (roll < 92)
        {
            // No Accept header: anything goes.
        }
        else
        {
            request.Headers.Add(("Accept", Encoding.ASCII.GetBytes(h.One("*/*", "text/*", "text/event-stream;q=0", "application/json, text/event-stream", "%%%", ";;", "text/event-stream, */*;q=0.1"))));
        }

        return request;
    }

    /// <summary>Sometimes an <c>X-Namespace</c> header: consulted when the query names no namespace, and then it must be valid.</summary>
    private static FuzzRequest NamespaceHeader(FuzzRequest request, Target target, Hostile h)
    {
        if (h.Chance(0.08))
        {
            var (text, _) = h.Text(ValueKind.Namespace, 0.5);
            var (bytes, httpLevel) = Hostile.HeaderValue(text);
            request.Headers.Add(("X-Namespace", bytes));
            request.HttpLevel |= httpLevel;
            var seen = text.Trim(' ', '\t');
            if (!request.HttpLevel && !target.HasNamespace && seen.Length > 0 && !Names.IsValidNamespace(seen))
            {
                request.MustRefuse($"X-Namespace '{seen}' is not a namespace");
            }
        }

        return request;
    }

    private static (string Json, bool Invalid) MetadataFilters(Hostile h)
    {
        var roll = h.Random.Next(100);
        if (roll < 45)
        {
            return (Encoding.UTF8.GetString(h.ObjectValue(1)), false);
        }

        if (roll < 60)
        {
            var deep = h.Deep(0);
            return (Encoding.UTF8.GetString(deep.Bytes), deep.Invalid || deep.Bytes[0] == (byte)'[');
        }

        if (roll < 80)
        {
            var junk = h.SyntaxJunk();
            return ("{\"a\":" + Encoding.UTF8.GetString(junk.Bytes) + "}", true);
        }

        return h.One(("[1]", true), ("1", true), ("\"x\"", true), ("null", true), ("{", true), ("*", false), ("", false), ("{}", false), ("{\"a\":1,\"a\":2}", false));
    }

    // ---- JSON list and info routes ----

    private FuzzRequest EventsList(int index, Hostile h)
    {
        var target = new Target("/v1/workflows/events/list");
        if (h.Chance(0.4))
        {
            var cursor = h.Random.Next(5) switch
            {
                0 when targets.ListCursors.Count > 0 => h.Pick(targets.ListCursors),
                1 when targets.ListCursors.Count > 0 => h.Mutate(h.Pick(targets.ListCursors)),
                2 => "l1." + Base64Url.EncodeToString(h.RandomBytes(h.One(16, 16, 15, 17, 0, 32))),
                3 => h.ResumeId(targets.Cursors),
                _ => h.HostileText(),
            };
            target.Param("cursor", new UrlValue(Hostile.PercentEncode(cursor), cursor, IsInvalidListCursor(cursor), false), null);
        }

        if (h.Chance(0.4))
        {
            target.Param("limit", h.Number(["0", "1", "1000", "1001", "2147483648"]), Repeat(h, "limit", target));
        }

        foreach (var name in new[] { "workflow_exec_id", "root_workflow_exec_id", "workflow_run_id" })
        {
            if (h.Chance(0.3))
            {
                target.Param(name, h.Url(ValueKind.Identifier, 0.5, known: [.. _execs, targets.KnownRun]), null);
            }
        }

        if (h.Chance(0.1))
        {
            target.Param("namespace", Namespace(h), null);
        }

        return NamespaceHeader(Get(index, Routes.EventsList, "cursor, limit, filters", target, h), target, h);
    }

    private static bool IsInvalidListCursor(string cursor)
    {
        if (cursor.Length == 0)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        try
        {
            return !cursor.StartsWith("l1.", StringComparison.Ordinal)
                || !Base64Url.TryDecodeFromChars(cursor.AsSpan(3), bytes, out var written) || written != 16
                || BitConverter.ToInt64(bytes) < 0 || BitConverter.ToInt64(bytes[8..]) < 0;
        }
        catch (FormatException)
        {
            // TryDecodeFromChars throws (rather than returning false) on characters outside the alphabet.
            return true;
        }
    }

    private FuzzRequest ListStreams(int index, Hostile h)
    {
        var target = new Target("/v1/streams");
        if (h.Chance(0.3))
        {
            target.Param("workflow_name", h.Url(ValueKind.WorkflowName, 0.5, known: [targets.KnownWorkflow, "demo"]), null);
        }

        if (h.Chance(0.3))
        {
            target.Param("root_workflow_exec_id", h.Url(ValueKind.Identifier, 0.5, known: _execs), null);
        }

        if (h.Chance(0.4))
        {
            target.Param("limit", h.Number(["0", "1", "500", "501"]), Repeat(h, "limit", target));
        }

        if (h.Chance(0.4))
        {
            target.Param("before", h.Number(["0", "1", "2", "9223372036854775806"]), Repeat(h, "before", target));
        }

        if (h.Chance(0.1))
        {
            target.Param("namespace", Namespace(h), null);
        }

        return NamespaceHeader(Get(index, Routes.ListStreams, "filters, limit, before", target, h), target, h);
    }

    private FuzzRequest GetStream(int index, Hostile h)
    {
        var target = new Target("/v1/streams/");
        target.Segment(h.Url(ValueKind.Identifier, 0.6, emptyIsAbsent: false, known: _execs), "workflow_exec_id");
        if (h.Chance(0.1))
        {
            target.Param("namespace", Namespace(h), null);
        }

        return NamespaceHeader(Get(index, Routes.GetStream, "id", target, h), target, h);
    }

    private FuzzRequest GetTask(int index, Hostile h)
    {
        var target = new Target("/v1/tasks/");
        target.Segment(h.Url(ValueKind.Identifier, 0.7, emptyIsAbsent: false, known: _tasks), "task_id");
        if (h.Chance(0.1))
        {
            // Not consulted by this route (tasks are found by id, then checked against the key's namespaces).
            target.Param("namespace", h.Url(ValueKind.Free), null);
        }

        return Get(index, Routes.GetTask, "id", target, h);
    }

    private static FuzzRequest Get(int index, string route, string category, Target target, Hostile h)
    {
        var request = target.ToRequest(index, route, category, "GET");
        if (h.Chance(0.1))
        {
            request.Headers.Add(("Accept", Encoding.ASCII.GetBytes(h.One("application/json", "text/event-stream", "*/*", "text/html", "application/xml"))));
        }

        return request;
    }

    // ---- publishing ----

    private FuzzRequest CreateTask(int index, Hostile h)
    {
        var members = new List<(string Name, JsonPart Value)>();
        if (!h.Chance(0.04))
        {
            members.Add(("type", h.StringMember(ValueKind.StreamName, required: true, known: _streamNames)));
        }
        else
        {
            members.Add(("", JsonPart.Of("0", true, "'type' is missing")));
        }

        if (!h.Chance(0.04))
        {
            members.Add(("state", h.AnyValue(depthAbove: 1)));
        }
        else
        {
            members.Add(("", JsonPart.Of("0", true, "'state' is missing")));
        }

        var context = h.Random.Next(100);
        if (context < 75)
        {
            var known = h.Chance(0.35);
            var fields = new List<(string, JsonPart)>();
            if (h.Chance(0.2))
            {
                var (text, invalid) = h.Text(ValueKind.Namespace, 0.6);
                fields.Add(("namespace", h.Chance(0.9) ? JsonPart.Of(Hostile.JsonString(text), invalid, invalid ? "namespace rule broken" : null) : new JsonPart(h.WrongType(), true, "namespace is not a string")));
            }

            fields.Add(("workflow_exec_id", known ? JsonPart.Of(Hostile.JsonString(targets.KnownExec)) : h.StringMember(ValueKind.Identifier, required: false, known: targets.PoolExecs)));
            if (known || h.Chance(0.4))
            {
                fields.Add(("workflow_name", known && h.Chance(0.8) ? JsonPart.Of(Hostile.JsonString(targets.KnownWorkflow)) : h.StringMember(ValueKind.WorkflowName, required: false)));
            }

            if (known || h.Chance(0.3))
            {
                fields.Add(("workflow_run_id", known && h.Chance(0.8) ? JsonPart.Of(Hostile.JsonString(targets.KnownRun)) : h.StringMember(ValueKind.Identifier, required: false)));
            }

            foreach (var name in new[] { "parent_workflow_exec_id", "root_workflow_exec_id" })
            {
                if (!known && h.Chance(0.25))
                {
                    fields.Add((name, h.StringMember(ValueKind.Identifier, required: false, known: targets.PoolExecs)));
                }
            }

            var obj = Compose(h, fields);
            members.Add(("workflow_context", obj));
        }
        else if (context < 85)
        {
            members.Add(("workflow_context", h.Chance(0.5) ? JsonPart.Of("null") : new JsonPart(h.NonObject(), true, "workflow_context is not an object")));
        }

        if (h.Chance(0.5))
        {
            members.Add(("task_id", h.StringMember(ValueKind.Identifier, required: false, known: targets.PoolTasks, validShare: 0.7)));
        }

        if (h.Chance(0.3))
        {
            members.Add(("metadata", h.ObjectMember()));
        }

        if (h.Chance(0.2))
        {
            members.Add(("activity_name", h.StringMember(ValueKind.WorkflowName, required: false)));
        }

        if (h.Chance(0.2))
        {
            members.Add(("activity_id", h.StringMember(ValueKind.Identifier, required: false)));
        }

        var target = new Target("/v1/tasks");
        return Post(index, Routes.CreateTask, target, Compose(h, [.. members.Where(m => m.Name.Length > 0)], members.Where(m => m.Name.Length == 0).Select(m => m.Value)), h, optional: false);
    }

    private FuzzRequest TaskState(int index, Hostile h)
    {
        var target = TaskTarget(h, "state");
        var roll = h.Random.Next(100);
        var members = new List<(string, JsonPart)>();
        switch (roll)
        {
            case < 45:
                members.Add(("state", h.AnyValue(depthAbove: 1)));
                break;
            case < 77:
                members.Add(("patch", Patch(h)));
                break;
            case < 85:
                members.Add(("state", h.AnyValue(depthAbove: 1)));
                members.Add(("patch", Patch(h)));
                return Post(index, Routes.TaskState, target, Compose(h, members, [JsonPart.Of("0", true, "both 'state' and 'patch'")]), h, optional: false);
            case < 90:
                return Post(index, Routes.TaskState, target, Compose(h, [("other", new JsonPart(h.Value(0), false))], [JsonPart.Of("0", true, "neither 'state' nor 'patch'")]), h, optional: false);
            default:
                members.Add(("patch", JsonPart.Of(h.One("{}", "{\"op\":\"add\",\"path\":\"/a\",\"value\":1}", "\"add\"", "1", "null", "true"), true, "'patch' is not an array")));
                break;
        }

        return Post(index, Routes.TaskState, target, Compose(h, members), h, optional: false);
    }

    /// <summary>Patch operations: valid or broken ops, JSON pointers that may or may not apply, values of any kind.</summary>
    private static JsonPart Patch(Hostile h)
    {
        var count = h.One(0, 1, 1, 1, 2, 3, 5);
        var operations = new List<JsonPart>();
        for (var i = 0; i < count; i++)
        {
            var fields = new List<(string, JsonPart)>();
            var op = h.Random.Next(100) switch
            {
                < 85 => h.One("add", "replace", "remove", "append"),
                < 93 => h.One("move", "copy", "test", "ADD", "", "append ", "delete"),
                _ => null,
            };
            if (op is not null)
            {
                fields.Add(("op", JsonPart.Of(Hostile.JsonString(op), op is not ("add" or "replace" or "remove" or "append"), $"op '{op}' is not add, replace, remove or append")));
            }
            else if (h.Chance(0.5))
            {
                fields.Add(("op", new JsonPart(h.WrongType(), true, "op is not a string")));
            }
            else
            {
                fields.Add(("", JsonPart.Of("0", true, "op is missing")));
            }

            var path = h.Random.Next(100) switch
            {
                < 60 => h.One("", "/", "/n", "/text", "/tokens", "/tokens/-", "/tokens/0", "/a", "/a/b", "/0", "/-", "/~0", "/~1", "/~2", "/a~", "//", "/n/x", "/99999999999999999999", "/-1"),
                < 80 => "/" + h.HostileText(),
                < 90 => h.HostileText(),
                _ => null,
            };
            if (path is not null)
            {
                fields.Add(("path", JsonPart.Of(Hostile.JsonString(path), path.Length > 0 && path[0] != '/', "path is not a JSON pointer")));
            }
            else
            {
                fields.Add(h.Chance(0.5) ? ("path", new JsonPart(h.WrongType(), true, "path is not a string")) : ("", JsonPart.Of("0", true, "path is missing")));
            }

            if (h.Chance(0.85))
            {
                var value = op == "append" && h.Chance(0.7) ? JsonPart.Of(Hostile.JsonString(h.HostileText())) : h.AnyValue(depthAbove: 4);
                if (op == "append" && !value.Invalid && value.Bytes[0] != (byte)'"')
                {
                    value = value with { Invalid = true, Why = "append with a value that is not a string" };
                }

                fields.Add(("value", value));
            }
            else if (op is "add" or "replace" or "append")
            {
                fields.Add(("", JsonPart.Of("0", true, $"'{op}' without a value")));
            }

            if (h.Chance(0.1))
            {
                fields.Add(("from", JsonPart.Of(Hostile.JsonString("/a"))));
            }

            var named = fields.Where(f => f.Item1.Length > 0).ToList();
            var composed = Compose(h, named, fields.Where(f => f.Item1.Length == 0).Select(f => f.Item2));
            operations.Add(h.Chance(0.03) ? JsonPart.Of(h.One("1", "\"add\"", "[]", "null"), true, "an operation that is not an object") : composed);
        }

        var invalid = operations.FirstOrDefault(o => o.Invalid);
        return new JsonPart(Hostile.Concat([(byte)'['], Hostile.Join(operations.Select(o => o.Bytes)), [(byte)']']), invalid.Invalid, invalid.Why);
    }

    private FuzzRequest TaskFinish(int index, Hostile h, string route)
    {
        var action = route[(route.LastIndexOf('/') + 1)..];
        var target = TaskTarget(h, action);
        var members = new List<(string, JsonPart)>();
        var optional = route != Routes.TaskFail;
        if (route == Routes.TaskComplete && h.Chance(0.6))
        {
            members.Add(("state", h.AnyValue(depthAbove: 1)));
        }
        else if (route == Routes.TaskFail)
        {
            if (h.Chance(0.92))
            {
                members.Add(("message", h.StringMember(ValueKind.Free, required: true)));
            }
            else
            {
                return Post(index, route, target, Compose(h, members, [JsonPart.Of("0", true, "'message' is missing")]), h, optional);
            }
        }
        else if (route == Routes.TaskCancel && h.Chance(0.6))
        {
            members.Add(("reason", h.StringMember(ValueKind.Free, required: false)));
        }

        if (optional && h.Chance(0.15))
        {
            var empty = target.ToRequest(index, route, "no body", "POST");
            if (h.Chance(0.5))
            {
                empty.Body = [];
                empty.Headers.Add(("Content-Type", "application/json"u8.ToArray()));
            }

            return empty;
        }

        return Post(index, route, target, Compose(h, members), h, optional);
    }

    private Target TaskTarget(Hostile h, string action)
    {
        var target = new Target("/v1/tasks/");
        target.Segment(h.Url(ValueKind.Identifier, 0.8, emptyIsAbsent: false, known: _tasks), "task_id").Path("/" + action);
        if (h.Chance(0.05))
        {
            target.Param("namespace", h.Url(ValueKind.Free), null);
        }

        return target;
    }

    private static FuzzRequest Demo(int index, Hostile h)
    {
        var members = new List<(string, JsonPart)>();
        foreach (var (name, max) in new[] { ("tokens_per_second", 1000), ("tokens", 5000), ("progress_steps", 1000) })
        {
            if (!h.Chance(0.5))
            {
                continue;
            }

            var roll = h.Random.Next(100);
            members.Add((name, roll switch
            {
                < 35 => JsonPart.Of(h.Between(1, Math.Min(max, 50)).ToString(CultureInfo.InvariantCulture)),
                < 55 => h.One(0, -1, max + 1, int.MaxValue, int.MinValue) is var number
                    ? JsonPart.Of(number.ToString(CultureInfo.InvariantCulture), true, $"{name} {number} is out of 1..{max}") : default,
                < 70 => JsonPart.Of(h.One("\"5\"", "true", "[]", "{}", "\"\""), true, $"{name} is not a number"),
                < 80 => JsonPart.Of(h.One("1.5", "1e3", "9223372036854775808", "1e309", "-0", "5.0")),
                < 88 => JsonPart.Of("null"),
                _ => h.SyntaxJunk(),
            }));
        }

        var target = new Target("/v1/demo");
        if (h.Chance(0.1))
        {
            target.Param("namespace", Namespace(h), null);
        }

        if (h.Chance(0.1))
        {
            var empty = target.ToRequest(index, Routes.Demo, "no body", "POST");
            return empty;
        }

        return Post(index, Routes.Demo, target, Compose(h, members), h, optional: true);
    }

    /// <summary>A JSON POST: the body, sometimes corrupted as a whole; a JSON content type.</summary>
    private static FuzzRequest Post(int index, string route, Target target, JsonPart body, Hostile h, bool optional)
    {
        var (bytes, invalid, why, category) = Corrupt(h, body, optional);
        var request = target.ToRequest(index, route, category, "POST");
        request.Body = bytes;
        var contentType = h.Random.Next(100) switch
        {
            < 85 => "application/json",
            < 90 => "application/json; charset=utf-8",
            < 93 => "application/problem+json",
            < 95 => "APPLICATION/JSON",
            < 97 => "application/vnd.fuzz+json",
            _ => "application/json; charset=iso-8859-1",
        };
        request.Headers.Add(("Content-Type", Encoding.ASCII.GetBytes(contentType)));
        if (invalid)
        {
            request.MustRefuse(why ?? "invalid body");
        }

        if (h.Chance(0.05))
        {
            request.Chunked = true;
        }

        return request;
    }

    /// <summary>Whole-body corruption: truncation, trailing junk, UTF-16, BOM, non-object roots, random bytes, emptiness.</summary>
    private static (byte[] Bytes, bool Invalid, string? Why, string Category) Corrupt(Hostile h, JsonPart body, bool optional)
    {
        var roll = h.Random.Next(100);
        return roll switch
        {
            < 86 => (body.Bytes, body.Invalid, body.Why, body.Invalid ? $"body: {body.Why}" : "body"),
            < 88 => (body.Bytes[..h.Between(1, Math.Max(1, body.Bytes.Length - 1))], true, "truncated JSON", "body: truncated"),
            < 90 => (Hostile.Concat(body.Bytes, Encoding.UTF8.GetBytes(h.One("}", " x", "{}", ",", "\u0000", "]", " 1"))), true, "trailing junk after the object", "body: trailing junk"),
            < 91 => (Encoding.Unicode.GetBytes(Encoding.UTF8.GetString(body.Bytes)), true, "UTF-16 body", "body: UTF-16"),
            < 92 => (Hostile.Concat([0xEF, 0xBB, 0xBF], body.Bytes), body.Invalid, body.Why, "body: UTF-8 BOM"),
            < 94 => (Hostile.Concat([(byte)'['], body.Bytes, [(byte)']']), true, "an array instead of an object", "body: array root"),
            < 96 => (Encoding.UTF8.GetBytes(h.One("null", "[]", "1", "\"{}\"", "true", "1e309", "NaN")), true, "not a JSON object", "body: scalar root"),
            < 98 => (Hostile.Concat([(byte)h.Pick("x!#<'a~"u8.ToArray())], h.RandomBytes(h.Between(0, 200))), true, "random bytes", "body: random bytes"),
            _ => ([], !optional, "empty body", "body: empty"),
        };
    }

    /// <summary>
    /// An object from members; <paramref name="invalidMarkers"/> only carry reasons (a missing required member). Sometimes
    /// a member is repeated (duplicate keys are refused) or unknown members are added.
    /// </summary>
    private static JsonPart Compose(Hostile h, IReadOnlyList<(string Name, JsonPart Value)> members, IEnumerable<JsonPart>? invalidMarkers = null)
    {
        var list = members.Select(m => (m.Name, m.Value.Bytes)).ToList();
        var reasons = members.Select(m => m.Value).Concat(invalidMarkers ?? []).Where(p => p.Invalid).Select(p => p.Why).ToList();
        if (list.Count > 0 && h.Chance(0.04))
        {
            var duplicate = h.Pick(list);
            list.Add((duplicate.Name, h.Chance(0.5) ? duplicate.Bytes : h.Value(0)));
            reasons.Add($"duplicate member '{duplicate.Name}'");
        }

        if (h.Chance(0.08))
        {
            list.Add((h.Chance(0.5) ? h.HostileText() : "unknown_member", h.Value(0)));
        }

        if (h.Chance(0.3))
        {
            list = [.. list.OrderBy(_ => h.Random.Next())];
        }

        return new JsonPart(h.Object(list), reasons.Count > 0, reasons.FirstOrDefault() ?? (reasons.Count > 0 ? "invalid" : null));
    }

    // ---- unknown routes, wrong methods ----

    private FuzzRequest Unknown(int index, Hostile h)
    {
        if (h.Chance(0.5))
        {
            // A real route with a method it does not have.
            var (path, methods) = h.One<(string, string[])>(
                ("/v1/workflows/events/stream", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "FOO"]),
                ($"/v1/workflows/executions/{targets.KnownExec}/stream", ["POST", "PUT", "DELETE", "HEAD"]),
                ("/v1/workflows/events/list", ["POST", "DELETE", "PATCH"]),
                ("/v1/tasks", ["GET", "PUT", "DELETE", "PATCH", "HEAD"]),
                ($"/v1/tasks/{targets.VictimTasks[0]}", ["POST", "PUT", "DELETE", "PATCH"]),
                ($"/v1/tasks/{targets.VictimTasks[0]}/state", ["GET", "PUT", "DELETE", "PATCH", "HEAD"]),
                ($"/v1/tasks/{targets.VictimTasks[0]}/complete", ["GET", "PUT", "DELETE"]),
                ($"/v1/tasks/{targets.VictimTasks[0]}/fail", ["GET", "DELETE"]),
                ($"/v1/tasks/{targets.VictimTasks[0]}/cancel", ["GET", "DELETE", "OPTIONS"]),
                ("/v1/streams", ["POST", "PUT", "DELETE", "TRACE"]),
                ($"/v1/streams/{targets.KnownExec}", ["POST", "PUT", "DELETE", "PATCH"]),
                ("/v1/demo", ["GET", "PUT", "DELETE", "HEAD"]));
            var method = h.Pick(methods);
            var request = new Target(path).ToRequest(index, Routes.Unknown, $"{method} on {path}", method);
            if (h.Chance(0.3))
            {
                request.Body = h.Object([("state", h.Value(0))]);
                request.Headers.Add(("Content-Type", "application/json"u8.ToArray()));
            }

            request.MustBe($"{method} is not a method of {path}", 405);
            AcceptAnything(request, h);
            return request;
        }

        var target = new Target(h.One(
            "/v1/", "/v1/nope/", "/v2/streams/", "/v1/tasks/x/y/", "/v1/tasks/x/", "/v1/workflows/", "/v1/workflows/events/", "/v1/workflows/executions/x/stream/",
            "/v1/streams/x/", "/api/", "/", "/static/", "/index.html/", "/openapi/", "/v1/workflows/executions/"));
        var segment = h.Random.Next(10) switch
        {
            < 6 => h.Url(ValueKind.Free, 0.2, emptyIsAbsent: false),
            6 => new UrlValue(Encoding.ASCII.GetBytes(h.One("..%2f..%2fetc%2fpasswd", "%2e%2e/%2e%2e/%2e%2e/etc/passwd", "../../../../etc/passwd", "..%5c..%5cwindows%5cwin.ini", ".env", ".git/config", "appsettings.json", "%2e%2e%2f%2e%2e%2fappsettings.json")), string.Empty, false, true),
            7 => new UrlValue(Encoding.ASCII.GetBytes(h.One("explode", "stream", "state/x", "complete/", "stream/extra", "a/b/c/d/e/f")), string.Empty, false, false),
            _ => new UrlValue(Hostile.PercentEncode(new string('a', 10_000)), string.Empty, false, true),
        };
        target.Segment(segment, null);
        var unknown = target.ToRequest(index, Routes.Unknown, "unknown path", h.One("GET", "GET", "POST", "DELETE"));
        unknown.Check = LeaksNoFile;
        AcceptAnything(unknown, h);
        return unknown;
    }

    /// <summary>An Accept header as browsers, SDKs and EventSource send them: a refusal must be a problem whatever the client accepts.</summary>
    private static void AcceptAnything(FuzzRequest request, Hostile h)
    {
        if (h.Chance(0.6))
        {
            request.Headers.Add(("Accept", Encoding.ASCII.GetBytes(h.One("text/event-stream", "text/event-stream", "application/json", "*/*", "text/html,application/xhtml+xml,*/*;q=0.8", "image/png"))));
        }
    }

    /// <summary>A path traversal must never serve a file from outside the web root.</summary>
    private static string? LeaksNoFile(RawResponse response)
    {
        var body = Encoding.UTF8.GetString(response.Body);
        return response.Status < 300 && (body.Contains("root:x:0:0", StringComparison.Ordinal) || body.Contains("[core]", StringComparison.Ordinal)
            || body.Contains("\"ConnectionStrings\"", StringComparison.Ordinal))
            ? "a path traversal served a file from outside the web root" : null;
    }

    // ---- transport: headers, sizes, content types ----

    private FuzzRequest Transport(int index, Hostile h)
    {
        var roll = h.Random.Next(100);
        if (roll < 15)
        {
            var request = SafeGet(index, h, "64 KiB header");
            request.Headers.Add((h.Chance(0.5) ? "Last-Event-ID" : "X-Fuzz-Pad", Encoding.ASCII.GetBytes(new string('a', 64 * 1024))));
            request.HttpLevel = true;
            request.MustBe("a 64 KiB header (Kestrel's limit is 32 KiB for all headers)", 431);
            return request;
        }

        if (roll < 22)
        {
            var request = SafeGet(index, h, "120 headers");
            for (var i = 0; i < 120; i++)
            {
                request.Headers.Add(($"X-Fuzz-{i}", "v"u8.ToArray()));
            }

            request.HttpLevel = true;
            request.MustBe("120 headers (Kestrel's limit is 100)", 431);
            return request;
        }

        if (roll < 32)
        {
            var request = SafeGet(index, h, "malformed header");
            var (name, value, refused) = h.One<(string, byte[], bool)>(
                ("X-Bad", [(byte)'a', 0x00, (byte)'b'], true),
                ("X-Bad", [(byte)'a', 0x0D, (byte)'b'], true),
                ("X-Bad", [(byte)'a', 0x0A, (byte)'b'], true),
                ("X Bad", [(byte)'x'], true),
                ("X-Bad\u0001", [(byte)'x'], false),
                ("Last-Event-ID", [0xC3, 0xA9], false),
                ("Last-Event-ID", [(byte)'1', 0x7F], false),
                ("Accept", [0xFF, 0xFE], false),
                ("Content-Length", "-1"u8.ToArray(), true),
                ("Content-Length", "abc"u8.ToArray(), true),
                ("Transfer-Encoding", "gzip"u8.ToArray(), false),
                ("Host", "a b"u8.ToArray(), true));
            request.Headers.Add((name, value));
            request.HttpLevel = true;
            if (refused)
            {
                request.MustRefuse($"header '{name}' is malformed");
            }

            return request;
        }

        // The publishing routes: a valid body, then one transport problem.
        var (route, path) = h.One(
            (Routes.CreateTask, "/v1/tasks"),
            (Routes.TaskState, $"/v1/tasks/{h.Pick(_tasks)}/state"),
            (Routes.TaskComplete, $"/v1/tasks/{h.Pick(_tasks)}/complete"),
            (Routes.TaskFail, $"/v1/tasks/{h.Pick(_tasks)}/fail"),
            (Routes.TaskCancel, $"/v1/tasks/{h.Pick(_tasks)}/cancel"),
            (Routes.Demo, "/v1/demo"));
        var body = h.Object([("type", "\"token\""u8.ToArray()), ("state", h.Value(0)), ("message", "\"m\""u8.ToArray())]);
        if (roll < 62)
        {
            var request = new Target(path).ToRequest(index, route, "body over 4 MiB", "POST");
            var size = 4 * 1024 * 1024 + h.Between(1, 1024 * 1024);
            request.Body = Hostile.Concat("{\"state\":\""u8.ToArray(), Encoding.ASCII.GetBytes(new string('x', size)), "\"}"u8.ToArray());
            request.Headers.Add(("Content-Type", "application/json"u8.ToArray()));
            request.Chunked = h.Chance(0.4);
            request.ExpectContinue = h.Chance(0.5);
            request.MustBe("a body over the 4 MiB limit", 413);
            return request;
        }

        if (roll < 85)
        {
            var request = new Target(path).ToRequest(index, route, "not a JSON content type", "POST");
            request.Body = body;
            var contentType = h.Chance(0.15) ? null : h.Pick(NotJsonContentTypes);
            if (contentType is not null)
            {
                request.Headers.Add(("Content-Type", Encoding.ASCII.GetBytes(contentType)));
            }

            request.MustBe($"a body of {contentType ?? "no content type"}", 415);
            return request;
        }

        var odd = new Target(path).ToRequest(index, route, "odd framing", "POST");
        odd.Headers.Add(("Content-Type", "application/json"u8.ToArray()));
        odd.HttpLevel = true;
        switch (h.Random.Next(4))
        {
            case 0:
                // A broken chunk size: the body cannot be read.
                odd.Headers.Add(("Transfer-Encoding", "chunked"u8.ToArray()));
                odd.RawBody = Hostile.Concat("zz\r\n"u8.ToArray(), body, "\r\n0\r\n\r\n"u8.ToArray());
                odd.MustRefuse("a chunk size that is not hexadecimal");
                break;
            case 1:
                odd.Headers.Add(("Content-Length", Encoding.ASCII.GetBytes(body.Length.ToString(CultureInfo.InvariantCulture))));
                odd.Headers.Add(("Content-Length", Encoding.ASCII.GetBytes((body.Length + 1).ToString(CultureInfo.InvariantCulture))));
                odd.RawBody = body;
                odd.MustRefuse("two different Content-Length headers");
                break;
            case 2:
                odd.Headers.Add(("Content-Length", Encoding.ASCII.GetBytes(body.Length.ToString(CultureInfo.InvariantCulture))));
                odd.Headers.Add(("Transfer-Encoding", "chunked"u8.ToArray()));
                odd.RawBody = Hostile.Concat(Encoding.ASCII.GetBytes(body.Length.ToString("x", CultureInfo.InvariantCulture) + "\r\n"), body, "\r\n0\r\n\r\n"u8.ToArray());
                break;
            default:
                // A chunk extension and trailers: valid HTTP/1.1.
                odd.Headers.Add(("Transfer-Encoding", "chunked"u8.ToArray()));
                odd.RawBody = Hostile.Concat(Encoding.ASCII.GetBytes(body.Length.ToString("x", CultureInfo.InvariantCulture) + ";ext=1\r\n"), body, "\r\n0\r\nX-Trailer: 1\r\n\r\n"u8.ToArray());
                break;
        }

        return odd;
    }

    private FuzzRequest SafeGet(int index, Hostile h, string category)
    {
        var (route, path, sse) = h.One(
            (Routes.EventsStream, $"/v1/workflows/events/stream?workflow_exec_id={targets.KnownExec}&start_seq=999999", true),
            (Routes.ExecutionStream, $"/v1/workflows/executions/{targets.KnownExec}/stream?event_source=LIVE", true),
            (Routes.EventsList, "/v1/workflows/events/list?limit=1", false),
            (Routes.ListStreams, "/v1/streams?limit=1", false),
            (Routes.GetStream, $"/v1/streams/{targets.KnownExec}", false),
            (Routes.GetTask, $"/v1/tasks/{targets.VictimTasks[0]}", false));
        var request = new Target(path).ToRequest(index, route, category, "GET", sse);
        if (sse)
        {
            request.Headers.Add(("Accept", "text/event-stream"u8.ToArray()));
        }

        return request;
    }

    // ---- helpers ----

    private static UrlValue Choice(Hostile h, string[] values, Func<string, bool> invalid)
    {
        if (h.Chance(0.8))
        {
            var value = h.Pick(values);
            return new UrlValue(Hostile.PercentEncode(value), value, invalid(value), false);
        }

        var text = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(h.HostileText()));
        var bytes = Hostile.PercentEncode(text);
        return new UrlValue(bytes, text, invalid(text), bytes.Length > 7_000);
    }

    /// <summary><c>namespace</c>: empty means the key's default; anything else must be a valid namespace (<c>*</c> is not one).</summary>
    private static UrlValue Namespace(Hostile h)
    {
        var value = h.Url(ValueKind.Namespace, 0.6, emptyIsAbsent: false, known: ["default"]);
        return value.Text.Length == 0 ? value with { Invalid = false } : value;
    }

    /// <summary>Sometimes a second value for a parameter that may be given once (which makes the request invalid).</summary>
    private static UrlValue? Repeat(Hostile h, string name, Target target)
    {
        if (!h.Chance(0.06))
        {
            return null;
        }

        target.Invalid.Add($"'{name}' is given twice");
        return new UrlValue(Hostile.PercentEncode(h.One("", "*", "0", "1", "x")), string.Empty, false, false);
    }

    /// <summary>A request target under construction: path segments and query parameters as bytes, with what they make of the request.</summary>
    private sealed class Target
    {
        private readonly List<byte> _bytes = [];
        private bool _hasQuery;
        private bool _httpLevel;

        public Target(string path) => Append(Encoding.ASCII.GetBytes(path));

        /// <summary>Why the request is definitely invalid (empty: it may be valid).</summary>
        public List<string> Invalid { get; } = [];

        /// <summary>The query names a <c>namespace</c> (which then wins over the <c>X-Namespace</c> header).</summary>
        public bool HasNamespace { get; private set; }

        /// <summary>A path segment may be normalized away (<c>.</c>, <c>..</c>, empty, junk): the request may reach another route.</summary>
        public bool RouteMayChange { get; private set; }

        public Target Path(string ascii)
        {
            Append(Encoding.ASCII.GetBytes(ascii));
            return this;
        }

        public Target Segment(UrlValue value, string? name)
        {
            Append(value.Bytes);

            // Kestrel decodes the path and refuses a NUL in it before the application.
            _httpLevel |= value.HttpLevel || value.Text.Contains('\0', StringComparison.Ordinal);
            RouteMayChange |= value.HttpLevel || value.Text is "" or "." or ".." || value.Text.Contains('/', StringComparison.Ordinal);
            if (name is not null && value.Invalid && !RouteMayChange)
            {
                Invalid.Add($"{name} '{Shorten(value.Text)}' breaks the identifier rule");
            }

            return this;
        }

        public Target Param(string name, UrlValue value, UrlValue? repeat = null) => Param(Encoding.ASCII.GetBytes(name), name, value, repeat);

        public Target Param(byte[] encodedName, UrlValue value, UrlValue? repeat = null) => Param(encodedName, null, value, repeat);

        public void RawQuery(string raw)
        {
            Append(Encoding.ASCII.GetBytes((_hasQuery ? "&" : "?") + raw));
            _hasQuery = true;
            _httpLevel = true;
        }

        public FuzzRequest ToRequest(int index, string route, string category, string method, bool isSse = false)
        {
            var request = new FuzzRequest
            {
                Index = index,
                Route = route,
                Category = category,
                Method = method,
                Target = [.. _bytes],
                IsSse = isSse,
                HttpLevel = _httpLevel || _bytes.Count > 7_000,
            };
            if (Invalid.Count > 0)
            {
                request.MustRefuse(Invalid[0]);
            }

            return request;
        }

        private Target Param(byte[] encodedName, string? name, UrlValue value, UrlValue? repeat)
        {
            HasNamespace |= name == "namespace";
            foreach (var one in repeat is { } second ? new[] { value, second } : [value])
            {
                Append(Encoding.ASCII.GetBytes(_hasQuery ? "&" : "?"));
                Append(encodedName);
                Append("="u8.ToArray());
                Append(one.Bytes);
                _hasQuery = true;
                _httpLevel |= one.HttpLevel;
            }

            if (name is not null && value.Invalid)
            {
                Invalid.Add($"{name} '{Shorten(value.Text)}' is not valid");
            }

            return this;
        }

        private void Append(byte[] bytes) => _bytes.AddRange(bytes);

        private static string Shorten(string text) => text.Length > 60 ? $"{text[..60]}…({text.Length} chars)" : text;
    }
}
