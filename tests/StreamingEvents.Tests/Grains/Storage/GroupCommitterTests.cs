using System.Collections.Concurrent;
using StreamingEvents.Storage;
using StreamingEvents.Testing;

namespace StreamingEvents.Tests.Grains.Storage;

public sealed class GroupCommitterTests
{
    [Fact]
    public async Task An_idle_committer_commits_a_lone_item_at_once()
    {
        var commits = new Commits();
        await using var committer = commits.Create(maxBatchWeight: 100);

        var result = await committer.SubmitAsync(7).Within();

        Assert.Equal("r7", result);
        Assert.Equal([[7]], commits.Batches);
    }

    [Fact]
    public async Task Items_submitted_while_a_commit_is_in_flight_share_the_next_commit()
    {
        var commits = new Commits { HoldFirst = true };
        await using var committer = commits.Create(maxBatchWeight: 100);

        var first = committer.SubmitAsync(0);
        await commits.FirstStarted.Within();
        var waiting = Enumerable.Range(1, 5).Select(committer.SubmitAsync).ToList();
        Assert.All(waiting, task => Assert.False(task.IsCompleted));
        commits.ReleaseFirst();

        Assert.Equal("r0", await first.Within());
        Assert.Equal(["r1", "r2", "r3", "r4", "r5"], await Task.WhenAll(waiting).Within());
        Assert.Equal([[0], [1, 2, 3, 4, 5]], commits.Batches);
    }

    [Fact]
    public async Task Each_caller_gets_the_result_of_its_own_item()
    {
        var commits = new Commits { HoldFirst = true, Result = item => $"item {item} of a batch" };
        await using var committer = commits.Create(maxBatchWeight: 1000);

        var first = committer.SubmitAsync(-1);
        await commits.FirstStarted.Within();
        var items = Enumerable.Range(0, 200).Select(i => (i * 7919) % 1000).ToList();
        var submitted = items.Select(item => (Item: item, Result: committer.SubmitAsync(item))).ToList();
        commits.ReleaseFirst();
        await first.Within();

        foreach (var (item, result) in submitted)
        {
            Assert.Equal($"item {item} of a batch", await result.Within());
        }

        Assert.Equal(2, commits.Batches.Count);
    }

    [Fact]
    public async Task A_failed_commit_fails_every_caller_of_its_batch_and_later_batches_still_commit()
    {
        var failure = new InvalidOperationException("disk full");
        var commits = new Commits { HoldFirst = true, Fail = batch => batch.Contains(1) ? failure : null };
        await using var committer = commits.Create(maxBatchWeight: 100);

        var first = committer.SubmitAsync(0);
        await commits.FirstStarted.Within();
        var doomed = new[] { committer.SubmitAsync(1), committer.SubmitAsync(2), committer.SubmitAsync(3) };
        commits.ReleaseFirst();

        Assert.Equal("r0", await first.Within());
        foreach (var task in doomed)
        {
            Assert.Same(failure, await Assert.ThrowsAsync<InvalidOperationException>(() => task.Within()));
        }

        Assert.Equal("r4", await committer.SubmitAsync(4).Within());
        Assert.Equal([[0], [1, 2, 3], [4]], commits.Batches);
    }

    [Fact]
    public async Task The_weight_bound_splits_queued_items_into_several_commits()
    {
        var commits = new Commits { HoldFirst = true };
        await using var committer = commits.Create(maxBatchWeight: 3);

        var first = committer.SubmitAsync(0);
        await commits.FirstStarted.Within();
        var rest = Enumerable.Range(1, 7).Select(committer.SubmitAsync).ToList();
        commits.ReleaseFirst();
        await first.Within();
        await Task.WhenAll(rest).Within();

        Assert.Equal([[0], [1, 2, 3], [4, 5, 6], [7]], commits.Batches);
    }

    [Fact]
    public async Task A_commit_never_carries_more_weight_than_the_bound_unless_one_item_alone_does()
    {
        // The weight is the number of events an append carries; the bound is "the most events one commit carries".
        int[] weights = [6, 6, 6, 3, 3, 3, 12, 1];
        var commits = new Commits { HoldFirst = true };
        await using var committer = commits.Create(maxBatchWeight: 10, weigh: item => item < 0 ? 1 : weights[item]);

        var first = committer.SubmitAsync(-1);
        await commits.FirstStarted.Within();
        var rest = Enumerable.Range(0, weights.Length).Select(committer.SubmitAsync).ToList();
        commits.ReleaseFirst();
        await first.Within();
        await Task.WhenAll(rest).Within();

        var batches = commits.Batches.Skip(1).ToList();
        Assert.Equal(Enumerable.Range(0, weights.Length), batches.SelectMany(b => b));
        Assert.All(batches, batch => Assert.True(batch.Length == 1 || batch.Sum(i => weights[i]) <= 10,
            $"A commit of [{string.Join(", ", batch.Select(i => weights[i]))}] weighs {batch.Sum(i => weights[i])}, over the bound of 10."));
    }

    [Fact]
    public async Task A_commit_never_carries_more_bytes_than_the_byte_bound_unless_one_item_alone_does()
    {
        // Few items, far under the count bound, but each large: the bytes alone must split them.
        long[] sizes = [6, 6, 3, 3, 3, 12, 1, 9, 2];
        var commits = new Commits { HoldFirst = true };
        await using var committer = commits.Create(maxBatchWeight: 1000, measure: item => item < 0 ? 1 : sizes[item], maxBatchBytes: 10);

        var first = committer.SubmitAsync(-1);
        await commits.FirstStarted.Within();
        var rest = Enumerable.Range(0, sizes.Length).Select(committer.SubmitAsync).ToList();
        commits.ReleaseFirst();
        await first.Within();
        await Task.WhenAll(rest).Within();

        var batches = commits.Batches.Skip(1).ToList();
        Assert.Equal(Enumerable.Range(0, sizes.Length), batches.SelectMany(b => b));
        Assert.All(batches, batch => Assert.True(batch.Length == 1 || batch.Sum(i => sizes[i]) <= 10,
            $"A commit of [{string.Join(", ", batch.Select(i => sizes[i]))}] carries {batch.Sum(i => sizes[i])} bytes, over the bound of 10."));
        Assert.Contains([5], batches);
    }

    [Fact]
    public async Task A_single_item_heavier_than_the_bound_is_committed_alone()
    {
        var commits = new Commits();
        await using var committer = commits.Create(maxBatchWeight: 2, weigh: _ => 50);

        Assert.Equal("r1", await committer.SubmitAsync(1).Within());
        Assert.Equal([[1]], commits.Batches);
    }

    [Fact]
    public async Task With_two_workers_a_second_commit_runs_while_the_first_is_in_flight()
    {
        var bothStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = 0;
        var batches = new ConcurrentQueue<int[]>();
        await using var committer = new GroupCommitter<int, string>(async (items, _) =>
        {
            batches.Enqueue([.. items]);
            if (Interlocked.Increment(ref started) == 2)
            {
                bothStarted.TrySetResult();
            }

            // Neither commit can finish until both are in flight at once.
            await bothStarted.Task;
            return [.. items.Select(i => $"r{i}")];
        }, _ => 1, maxBatchWeight: 1, concurrentCommits: 2);

        var results = await Task.WhenAll(committer.SubmitAsync(1), committer.SubmitAsync(2)).Within();

        Assert.Equal(["r1", "r2"], results);
        Assert.Equal(2, batches.Count);
    }

    [Fact]
    public async Task Dispose_commits_every_queued_item_before_it_completes()
    {
        var commits = new Commits { HoldFirst = true };
        var committer = commits.Create(maxBatchWeight: 2);

        var first = committer.SubmitAsync(0);
        await commits.FirstStarted.Within();
        var queued = Enumerable.Range(1, 5).Select(committer.SubmitAsync).ToList();
        var disposing = committer.DisposeAsync().AsTask();

        Assert.Throws<ObjectDisposedException>(() => { _ = committer.SubmitAsync(99); });
        Assert.False(disposing.IsCompleted);
        commits.ReleaseFirst();
        await disposing.Within();

        Assert.True(first.IsCompletedSuccessfully);
        Assert.All(queued, task => Assert.True(task.IsCompletedSuccessfully));
        Assert.Equal(["r1", "r2", "r3", "r4", "r5"], queued.Select(t => t.Result));
        Assert.Equal([[0], [1, 2], [3, 4], [5]], commits.Batches);
    }

    [Theory]
    [InlineData(0, 1, 1)]
    [InlineData(1, 0, 1)]
    [InlineData(1, 1, 0)]
    public void A_bound_or_worker_count_below_one_is_refused(long maxBatchWeight, int concurrentCommits, long maxBatchBytes) =>
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new GroupCommitter<int, int>((items, _) => Task.FromResult<IReadOnlyList<int>>([.. items]), _ => 1, maxBatchWeight, concurrentCommits,
                maxBatchBytes: maxBatchBytes));

    /// <summary>A commit function that records its batches and can hold the first commit until released.</summary>
    private sealed class Commits
    {
        private readonly TaskCompletionSource _firstStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _releaseFirst = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentQueue<int[]> _batches = new();
        private int _count;

        public bool HoldFirst { get; init; }

        public Func<int, string> Result { get; init; } = item => $"r{item}";

        public Func<int[], Exception?> Fail { get; init; } = _ => null;

        public Task FirstStarted => _firstStarted.Task;

        public List<int[]> Batches => [.. _batches];

        public void ReleaseFirst() => _releaseFirst.TrySetResult();

        public GroupCommitter<int, string> Create(long maxBatchWeight, Func<int, long>? weigh = null, Func<int, long>? measure = null, long maxBatchBytes = long.MaxValue) =>
            new(CommitAsync, weigh ?? (_ => 1), maxBatchWeight, concurrentCommits: 1, measure: measure, maxBatchBytes: maxBatchBytes);

        private async Task<IReadOnlyList<string>> CommitAsync(IReadOnlyList<int> items, CancellationToken cancellationToken)
        {
            int[] batch = [.. items];
            _batches.Enqueue(batch);
            if (Interlocked.Increment(ref _count) == 1 && HoldFirst)
            {
                _firstStarted.TrySetResult();
                await _releaseFirst.Task;
            }

            if (Fail(batch) is { } failure)
            {
                throw failure;
            }

            return [.. batch.Select(Result)];
        }
    }
}
