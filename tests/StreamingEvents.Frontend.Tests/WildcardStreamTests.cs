using StreamingEvents.Frontend.Tests.Infrastructure;

namespace StreamingEvents.Frontend.Tests;

/// <summary>
/// Streams over many executions (<c>workflow_exec_id=*</c> or absent, filtered by workflow name, root or parent):
/// executions merged, each in order, new ones picked up, and the record id — a cursor — resumes every execution exactly.
/// </summary>
[Collection(SharedServerCollection.Name)]
public sealed class WildcardStreamTests(SharedServer fixture)
{
    private Api Api => fixture.Api;

    [Fact]
    public async Task A_wildcard_stream_by_workflow_name_merges_executions_in_order_and_picks_up_one_created_while_it_runs()
    {
        var name = Api.NewId("wf");
        var a = Api.NewId("wild-a");
        var b = Api.NewId("wild-b");
        var c = Api.NewId("wild-c");
        var other = Api.NewId("wild-other");
        await Api.PublishTaskAsync(a, updates: 3, workflowName: name);
        await Api.PublishTaskAsync(b, updates: 1, workflowName: name);
        await Api.PublishTaskAsync(other, updates: 1, workflowName: Api.NewId("wf-other"));

        await using var stream = await Api.StreamAsync(Query.MistralDefaults().Set("workflow_name", name));
        await stream.WaitAsync(r => r.Count(x => x.ExecId == a) == 5 && r.Count(x => x.ExecId == b) == 3, "the history of a and b");

        // Live: a new execution of the workflow, and more events in a known one.
        await Api.PublishTaskAsync(c, updates: 2, workflowName: name);
        await Api.PublishTaskAsync(a, updates: 1, workflowName: name);
        var records = await stream.WaitAsync(r => r.Count(x => x.ExecId == c) == 4 && r.Count(x => x.ExecId == a) == 8, "the live events of a and c");

        Assert.DoesNotContain(records, r => r.ExecId == other);
        Assert.Equal(ResumeTests.Sequences(1, 8), records.Where(r => r.ExecId == a).Select(r => r.Sequence));
        Assert.Equal(ResumeTests.Sequences(1, 3), records.Where(r => r.ExecId == b).Select(r => r.Sequence));
        Assert.Equal(ResumeTests.Sequences(1, 4), records.Where(r => r.ExecId == c).Select(r => r.Sequence));
        Assert.All(records, r => Assert.StartsWith("w1.", r.Id, StringComparison.Ordinal));
        Assert.Equal(records.Count, records.Select(r => r.Id).Distinct().Count());
    }

    [Fact]
    public async Task The_record_id_of_a_wildcard_stream_given_back_as_Last_Event_ID_resumes_every_execution_exactly()
    {
        var root = Api.NewId("wild-root");
        var executions = new[] { Api.NewId("wild-x"), Api.NewId("wild-y"), Api.NewId("wild-z") };
        foreach (var exec in executions)
        {
            await Api.PublishTaskAsync(exec, updates: 3, rootId: root);
        }

        var query = Query.MistralDefaults().Set("root_workflow_exec_id", root);
        List<EventRecord> delivered;
        await using (var first = await Api.StreamAsync(query))
        {
            delivered = [.. await first.WaitForCountAsync(15)];
        }

        // Cut the connection after the 7th record, as a dropped network would: the client knows only that record's id.
        var cut = delivered[6];
        var seenBeforeCut = delivered.Take(7).Select(r => r.Key).ToHashSet();

        // More events while disconnected, in every execution and in a new one.
        var late = Api.NewId("wild-late");
        var expected = delivered.Select(r => r.Key).Where(k => !seenBeforeCut.Contains(k)).ToList();
        foreach (var exec in executions.Append(late))
        {
            var sequences = await Api.PublishTaskAsync(exec, updates: 1, rootId: root);
            expected.AddRange(sequences.Select(s => (ExecId: exec, Sequence: s)));
        }

        var lastOfEach = expected.GroupBy(k => k.ExecId).ToDictionary(g => g.Key, g => g.Max(k => k.Sequence));
        await using var resumed = await Api.StreamAsync(query, lastEventId: cut.Id);
        var records = await resumed.WaitAsync(
            r => lastOfEach.All(last => r.Any(x => x.ExecId == last.Key && x.Sequence == last.Value)), "the last event of every execution");

        Assert.Equal(expected.Order(), records.Select(r => r.Key).Order());
        foreach (var exec in executions.Append(late))
        {
            var sequences = records.Where(r => r.ExecId == exec).Select(r => r.Sequence).ToList();
            Assert.Equal(sequences.Order(), sequences);
        }
    }

    [Fact]
    public async Task Root_and_parent_filters_select_the_executions_of_a_workflow_tree_with_or_without_the_star_parameters()
    {
        var root = Api.NewId("tree-root");
        var child = Api.NewId("tree-child");
        var grandchild = Api.NewId("tree-grandchild");
        var unrelated = Api.NewId("tree-unrelated");
        await Api.PublishTaskAsync(root, updates: 0);
        await Api.PublishTaskAsync(child, updates: 0, rootId: root, parentId: root);
        await Api.PublishTaskAsync(grandchild, updates: 0, rootId: root, parentId: child);
        await Api.PublishTaskAsync(unrelated, updates: 0, parentId: root, rootId: Api.NewId("elsewhere"));

        // Mistral's clients send every parameter with '*'; a hand-written URL leaves them out. Both mean "any".
        var byRoot = await Api.TakeAsync(Query.MistralDefaults().Set("root_workflow_exec_id", root), 6);
        var byParent = await Api.TakeAsync(Query.Events().Set("parent_workflow_exec_id", child), 2);
        var byRootAndParent = await Api.TakeAsync(Query.MistralDefaults().Set("root_workflow_exec_id", root).Set("parent_workflow_exec_id", root), 2);

        Assert.Equal([child, grandchild, root], byRoot.Select(r => r.ExecId).Distinct().Order());
        Assert.All(byParent, r => Assert.Equal(grandchild, r.ExecId));
        Assert.All(byRootAndParent, r => Assert.Equal(child, r.ExecId));
    }

    [Fact]
    public async Task A_wildcard_start_seq_applies_to_every_execution()
    {
        var name = Api.NewId("wf");
        var a = Api.NewId("wild-seq-a");
        var b = Api.NewId("wild-seq-b");
        await Api.PublishTaskAsync(a, updates: 3, workflowName: name);
        await Api.PublishTaskAsync(b, updates: 4, workflowName: name);

        await using var stream = await Api.StreamAsync(Query.MistralDefaults().Set("workflow_name", name).Set("start_seq", 4));
        var records = await stream.WaitAsync(r => r.Any(x => x.ExecId == a && x.Sequence == 5) && r.Any(x => x.ExecId == b && x.Sequence == 6), "the last events");

        Assert.Equal([4L, 5L], records.Where(r => r.ExecId == a).Select(r => r.Sequence));
        Assert.Equal([4L, 5L, 6L], records.Where(r => r.ExecId == b).Select(r => r.Sequence));
    }
}
